package dev.deputy.broker.audit;

import dev.deputy.broker.storage.StorageBackend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The delegation trail bounded by the tenant's token lifetime (H2): a busy user's older and later token entries,
 * outside the lifetime around the chain, are not read, and the chain is the same as the unbounded walk finds; a
 * parent token issued more than a lifetime before the exchange (impossible for a valid token) is not looked for.
 */
class DelegationTrailBoundTest {
    static final String TENANT = "trail-ü";
    static final String USER = "zoë.ångström@corp.example";
    static final String A = "payments.settlement.reconciler";
    static final String B = "support.ticket.triage";
    static final long MIN = 60_000L;

    @TempDir
    Path dir;

    @Test
    void theTrailReadsTheTokensLifetimeAroundTheChainOnly() {
        try (StorageBackend b = StorageBackend.h2(dir)) {
            long t0 = 1_796_000_000_000L;
            List<AuditEvent> events = new ArrayList<>();
            List<Long> times = new ArrayList<>();
            // 3,000 of the user's token entries a day before, and 3,000 exchanges of other tokens a day after: what
            // an unbounded walk reads around the chain user → A → B → tool call
            for (int i = 0; i < 3000; i++) {
                events.add(issued("noise-before-" + i));
                times.add(t0 - 86_400_000L + i);
            }
            events.add(issued("jti-user"));
            times.add(t0);
            events.add(exchanged(List.of(A), "jti-a", "jti-user"));
            times.add(t0 + 10 * MIN);
            events.add(exchanged(List.of(B, A), "jti-b", "jti-a"));
            times.add(t0 + 11 * MIN);
            events.add(AuditEvent.of(TENANT, EventTypes.TOOL_CALL, AuditEvent.Outcome.SUCCESS).subject(USER, "https://login.corp.example")
                    .actors(List.of(B, A)).agent(B).client(B).detail("tool", "transfer_funds").detail("status", "ok")
                    .detail("token_jti", "jti-b").build());
            times.add(t0 + 12 * MIN);
            for (int i = 0; i < 3000; i++) {
                events.add(exchanged(List.of(A), "noise-after-" + i, "noise-subject-" + i));
                times.add(t0 + 86_400_000L + i);
            }
            List<AuditEntry> sealed = new ArrayList<>();
            String prev = AuditEntry.GENESIS;
            for (int i = 0; i < events.size(); i++) {
                AuditEntry e = AuditSeal.seal(events.get(i), i + 1, times.get(i), prev);
                sealed.add(e);
                prev = e.hash();
            }
            for (int i = 0; i < sealed.size(); i += 500) {
                b.audit().insert(sealed.subList(i, Math.min(sealed.size(), i + 500)));
            }
            AuditEntry exchangeB = sealed.get(3002);
            assertEquals("jti-b", DelegationTrail.details(exchangeB).get("jti"));

            AtomicLong unboundedRows = new AtomicLong();
            DelegationTrail.Trail unbounded = DelegationTrail.of(counting(b.audit(), unboundedRows), exchangeB);
            AtomicLong boundedRows = new AtomicLong();
            DelegationTrail.Trail bounded = DelegationTrail.of(counting(b.audit(), boundedRows), exchangeB, Duration.ofMinutes(15));

            assertEquals(List.of("jti-user", "jti-a", "jti-b"), unbounded.hops().stream().map(DelegationTrail.Hop::jti).toList());
            assertEquals(unbounded.hops(), bounded.hops(), "the same chain");
            assertEquals(unbounded.toolCalls(), bounded.toolCalls());
            assertEquals(1, bounded.toolCalls().size());
            assertNull(bounded.rootJti(), "the user's own token is in the trail");
            assertFalse(bounded.truncated());
            assertTrue(unboundedRows.get() >= 3000, "the unbounded walk read the user's later exchanges: " + unboundedRows);
            assertTrue(boundedRows.get() < 20, "the bounded one the minutes around the chain: " + boundedRows);

            // a lifetime (with the clock margin: 5 minutes) shorter than the 10 minutes between the user's token and the
            // first exchange: that token would have expired before it was exchanged, so it is not looked for
            DelegationTrail.Trail short1 = DelegationTrail.of(b.audit(), exchangeB, Duration.ofMinutes(5).minusMillis(DelegationTrail.SKEW_MS));
            assertEquals(List.of("jti-a", "jti-b"), short1.hops().stream().map(DelegationTrail.Hop::jti).toList());
            assertEquals("jti-user", short1.rootJti(), "rooted outside what a valid token allows");
        }
    }

    private static AuditEvent issued(String jti) {
        return AuditEvent.of(TENANT, EventTypes.TOKEN_ISSUED, AuditEvent.Outcome.SUCCESS).subject(USER, "https://login.corp.example")
                .client("mcp-inspector").detail("grant_type", "authorization_code").detail("jti", jti).build();
    }

    private static AuditEvent exchanged(List<String> chain, String jti, String subjectJti) {
        return AuditEvent.of(TENANT, EventTypes.TOKEN_EXCHANGED, AuditEvent.Outcome.SUCCESS).subject(USER, "https://login.corp.example")
                .actors(chain).agent(chain.get(0)).client(chain.get(0)).scopes("payments:read").detail("jti", jti)
                .detail("subject_jti", subjectJti).detail("subject_kind", "user").build();
    }

    /** The store, counting the entries its queries return. */
    private static AuditStore counting(AuditStore s, AtomicLong rows) {
        return (AuditStore) java.lang.reflect.Proxy.newProxyInstance(AuditStore.class.getClassLoader(),
                new Class<?>[]{AuditStore.class}, (proxy, m, args) -> {
                    Object r = m.invoke(s, args);
                    if (r instanceof List<?> l && (m.getName().equals("query") || m.getName().equals("queryNewestFirst"))) {
                        rows.addAndGet(l.size());
                    }
                    return r;
                });
    }
}
