package dev.deputy.broker.audit;

import com.fasterxml.jackson.core.type.TypeReference;
import com.nimbusds.jose.jwk.JWKSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.ByteArrayOutputStream;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static dev.deputy.broker.storage.jooq.Tables.TENANTS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Query, export/offline verification, OCSF, in-transaction append and retention, on H2 and MariaDB. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AuditFeaturesTest {
    List<TestBackends> backends;

    @BeforeAll
    void start() throws Exception {
        backends = TestBackends.both();
    }

    @AfterAll
    void stop() throws Exception {
        for (TestBackends b : backends) {
            b.shutdown();
        }
    }

    List<TestBackends> backends() {
        return backends;
    }

    record Env(TestBackends b, String tenant, AuditLog log, TestBackends.MemorySigner signer, AuditVerifier verifier,
               AuditCheckpoints cps, AuditExporter exporter) {
    }

    Env env(TestBackends b) {
        String t = TestBackends.tenant();
        AuditLog log = new AuditLog(b.store);
        TestBackends.MemorySigner signer = new TestBackends.MemorySigner();
        AuditVerifier v = new AuditVerifier(b.store, signer);
        AuditCheckpoints cps = new AuditCheckpoints(b.store, log, v, signer, null, 0);
        return new Env(b, t, log, signer, v, cps, new AuditExporter(b.store, log, cps));
    }

    static AuditEvent.Builder ev(String t, String type) {
        return AuditEvent.of(t, type, AuditEvent.Outcome.SUCCESS);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void queryFiltersCorrelationAndKeysetPagination(TestBackends b) {
        Env e = env(b);
        String t = e.tenant();
        // one request chain: login → consent → token exchange by agent A then B → tool call
        e.log().append(ev(t, EventTypes.LOGIN_SUCCEEDED).subject("alice", "https://idp").request(new RequestMeta("corr-1", "r1", "10.0.0.1")).build());
        e.log().append(ev(t, EventTypes.TOKEN_ISSUED).subject("bob", "https://idp").client("c2").request(new RequestMeta("corr-2", "r2", "10.0.0.2")).build());
        e.log().append(ev(t, EventTypes.CONSENT_GRANTED).subject("alice", "https://idp").client("c1").request(new RequestMeta("corr-1", "r3", "10.0.0.1")).build());
        e.log().append(ev(t, EventTypes.TOKEN_EXCHANGED).subject("alice", "https://idp").actors(List.of("agt_A")).agent("agt_A").client("c1")
                .resource("https://mcp.example").request(new RequestMeta("corr-1", "r4", "10.0.0.3")).build());
        e.log().append(ev(t, EventTypes.TOKEN_EXCHANGED).subject("alice", "https://idp").actors(List.of("agt_B", "agt_A")).agent("agt_B").client("c9")
                .resource("https://mcp.example").request(new RequestMeta("corr-1", "r5", "10.0.0.4")).build());
        e.log().append(AuditEvent.of(t, EventTypes.TOKEN_REJECTED, AuditEvent.Outcome.FAILURE).client("c2").request(new RequestMeta("corr-3", "r6", null)).build());
        for (int i = 0; i < 25; i++) {
            e.log().append(ev(t, EventTypes.POLICY_DECISION).agent("agt_C").build());
        }
        AuditStore s = b.store;
        List<AuditEntry> story = s.query(q(t).correlation("corr-1").build());
        assertEquals(List.of(EventTypes.LOGIN_SUCCEEDED, EventTypes.CONSENT_GRANTED, EventTypes.TOKEN_EXCHANGED, EventTypes.TOKEN_EXCHANGED),
                story.stream().map(AuditEntry::type).toList());
        assertEquals(List.of(1L, 3L, 4L, 5L), story.stream().map(AuditEntry::seq).toList());
        // agent anywhere in the actor chain: agt_A acted at 4 and sits inside the chain at 5
        assertEquals(List.of(4L, 5L), s.query(q(t).agent("agt_A").build()).stream().map(AuditEntry::seq).toList());
        assertEquals(List.of(5L), s.query(q(t).agent("agt_B").build()).stream().map(AuditEntry::seq).toList());
        assertEquals(List.of(1L, 3L, 4L, 5L), s.query(q(t).subject("alice").build()).stream().map(AuditEntry::seq).toList());
        assertEquals(List.of(2L, 6L), s.query(q(t).client("c2").build()).stream().map(AuditEntry::seq).toList());
        assertEquals(List.of(6L), s.query(q(t).outcome("failure").build()).stream().map(AuditEntry::seq).toList());
        assertEquals(List.of(4L, 5L), s.query(q(t).resource("https://mcp.example").build()).stream().map(AuditEntry::seq).toList());
        assertEquals(List.of(2L, 4L, 5L, 6L), s.query(q(t).types(List.of("token.")).build()).stream().map(AuditEntry::seq).toList());
        assertEquals(List.of(1L), s.query(q(t).types(List.of(EventTypes.LOGIN_SUCCEEDED)).build()).stream().map(AuditEntry::seq).toList());
        assertEquals(List.of(6L), s.query(q(t).requestId("r6").build()).stream().map(AuditEntry::seq).toList());
        long now = System.currentTimeMillis();
        assertEquals(31, s.query(q(t).time(now - 60_000, now + 60_000).limit(100).build()).size());
        assertEquals(0, s.query(q(t).time(now + 60_000, null).build()).size());
        // keyset pages of 10 over agt_C's 25 entries
        List<Long> seen = new ArrayList<>();
        long after = 0;
        int pages = 0;
        while (true) {
            List<AuditEntry> page = s.query(q(t).agent("agt_C").after(after).limit(10).build());
            page.forEach(x -> seen.add(x.seq()));
            pages++;
            if (page.size() < 10) {
                break;
            }
            after = page.get(page.size() - 1).seq();
        }
        assertEquals(3, pages);
        assertEquals(25, seen.size());
        assertEquals(7L, seen.get(0));
        assertEquals(31L, seen.get(24));
        // another tenant sees nothing of this one
        assertEquals(0, s.query(q("other-" + t).correlation("corr-1").build()).size());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void exportVerifiesOfflineAgainstJwksAlone(TestBackends b) throws Exception {
        Env e = env(b);
        for (int i = 0; i < 30; i++) {
            e.log().append(ev(e.tenant(), EventTypes.TOKEN_ISSUED).subject("u" + i, "https://idp").detail("i", i).build());
        }
        e.cps().checkpoint(e.tenant());
        String oldKid = e.signer().active.getKeyID();
        for (int i = 0; i < 10; i++) {
            e.log().append(ev(e.tenant(), EventTypes.TOKEN_ISSUED).build());
        }
        // rotation: the new key re-signs the head while the old one is still published, then the old one goes
        e.signer().rotate();
        e.cps().periodic(e.tenant());
        e.signer().unpublish(oldKid);
        String jwks = new JWKSet(new ArrayList<>(e.signer().published(e.tenant()).values())).toString(true);
        assertFalse(jwks.contains(oldKid));

        // an old range [5, 30], signed only by the retired key: verifies through endorsement
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        AuditExporter.Range r = e.exporter().exportJsonl(e.tenant(), 5, 30L, out);
        assertEquals(30, r.to());
        String file = out.toString(StandardCharsets.UTF_8);
        OfflineVerifier.Result ok = OfflineVerifier.verify(new StringReader(file), jwks);
        assertTrue(ok.ok(), ok.toString());
        assertEquals(26, ok.entries());
        assertEquals(30, ok.signedThrough());

        // the whole chain: extended to a fresh checkpoint at the head
        out.reset();
        r = e.exporter().exportJsonl(e.tenant(), 1, null, out);
        assertEquals(40, r.to());
        assertTrue(OfflineVerifier.verify(new StringReader(out.toString(StandardCharsets.UTF_8)), jwks).ok());

        // tampering with the file is caught
        String edited = file.replace("\"subject\":\"u10\"", "\"subject\":\"mallory\"");
        OfflineVerifier.Result bad = OfflineVerifier.verify(new StringReader(edited), jwks);
        assertEquals("edited", bad.problem());
        assertEquals(11, bad.firstBadSeq());
        List<String> lines = new ArrayList<>(file.lines().toList());
        lines.removeIf(l -> l.contains("\"type\":\"entry\"") && l.contains("\"seq\":30,"));
        assertEquals("truncated", OfflineVerifier.verify(new StringReader(String.join("\n", lines)), jwks).problem());
        // a JWKS that does not hold the tenant's key: nothing is trusted
        TestBackends.MemorySigner stranger = new TestBackends.MemorySigner();
        String otherJwks = new JWKSet(new ArrayList<>(stranger.published("x").values())).toString(true);
        assertEquals("checkpoint_signature", OfflineVerifier.verify(new StringReader(file), otherJwks).problem());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void ocsfHasTheRequiredClassFields(TestBackends b) throws Exception {
        Env e = env(b);
        String t = e.tenant();
        e.log().append(ev(t, EventTypes.LOGIN_SUCCEEDED).subject("alice", "https://idp").request(new RequestMeta("c", "r", "10.1.2.3")).build());
        e.log().append(ev(t, EventTypes.TOKEN_ISSUED).subject("agt_X", null).client("cc").scopes("a b").build());
        e.log().append(ev(t, EventTypes.AGENT_CREATED).agent("agt_X").build());
        e.log().append(ev(t, EventTypes.CONSENT_GRANTED).subject("alice", "https://idp").client("c1").build());
        e.log().append(AuditEvent.of(t, EventTypes.POLICY_DECISION, AuditEvent.Outcome.DENY).subject("alice", "https://idp").actors(List.of("agt_X")).build());
        e.log().append(ev(t, EventTypes.TOOL_CALL).subject("alice", "https://idp").actors(List.of("agt_X")).resource("https://mcp").detail("tool", "search").build());
        // an AuthZEN batch's entry: one record, counting the decisions it holds per effect
        e.log().append(AuditEvent.of(t, EventTypes.POLICY_DECISION, AuditEvent.Outcome.DENY).subject("alice", "https://idp")
                .actors(List.of("agt_X")).resource("https://mcp").detail("kind", "tool").detail("decisions", List.of(
                        Map.of("index", 0, "tool", "search", "effect", "permit"),
                        Map.of("index", 1, "tool", "fetch", "effect", "permit"),
                        Map.of("index", 2, "tool", "delete", "effect", "deny"))).build());
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        e.exporter().exportOcsf(t, 1, null, out);
        List<Map<String, Object>> events = new ArrayList<>();
        for (String line : out.toString(StandardCharsets.UTF_8).lines().toList()) {
            events.add(AuditJson.MAPPER.readValue(line, new TypeReference<Map<String, Object>>() {
            }));
        }
        assertEquals(7, events.size());
        assertEquals(List.of(3002, 3002, 3001, 3001, 6003, 6003, 6003), events.stream().map(m -> m.get("class_uid")).toList());
        for (Map<String, Object> m : events) {
            int cls = (Integer) m.get("class_uid");
            for (String f : OcsfMapper.REQUIRED.get(cls)) {
                assertTrue(m.containsKey(f) && m.get(f) != null, "class " + cls + " lacks " + f + ": " + m);
            }
            assertEquals(((Number) m.get("class_uid")).longValue() * 100 + ((Number) m.get("activity_id")).longValue(),
                    ((Number) m.get("type_uid")).longValue());
            @SuppressWarnings("unchecked")
            Map<String, Object> md = (Map<String, Object>) m.get("metadata");
            assertTrue(md.containsKey("product") && md.containsKey("version") && md.containsKey("uid"), md.toString());
            assertTrue(m.get("time") instanceof Number);
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> login = events.get(0);
        assertEquals("10.1.2.3", ((Map<?, ?>) login.get("src_endpoint")).get("ip"));
        assertEquals("c", ((Map<?, ?>) login.get("metadata")).get("correlation_uid"));
        assertEquals("alice", ((Map<?, ?>) ((Map<?, ?>) login.get("actor")).get("user")).get("uid"));
        assertEquals(2, events.get(4).get("status_id")); // deny
        assertEquals(1, events.get(4).get("category_uid") instanceof Integer i ? i - 5 : -1); // category 6
        Map<String, Object> batched = events.get(6);
        assertEquals("policy.decision deny (3 decisions: 1 deny, 2 permit)", batched.get("message"));
        assertEquals(Map.of("deny", 1, "permit", 2), ((Map<?, ?>) batched.get("unmapped")).get("deputy.decision_effects"));
        assertEquals(null, ((Map<?, ?>) events.get(4).get("unmapped")).get("deputy.decision_effects"), "a single decision");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void stateChangeAndItsEntryCommitTogether(TestBackends b) {
        Env e = env(b);
        String t = e.tenant();
        var audited = new dev.deputy.broker.storage.AuditedTransactions(b.db, e.log());
        e.log().append(ev(t, EventTypes.AGENT_CREATED).agent("agt_1").build());
        // committed: the row and the entry
        audited.tx(t, (dsl, audit) -> {
            dsl.insertInto(TENANTS).set(TENANTS.ID, t + "-ok").set(TENANTS.DISPLAY_NAME, "x")
                    .set(TENANTS.CREATED_AT, 1L).set(TENANTS.UPDATED_AT, 1L).execute();
            audit.append(ev(t, EventTypes.AGENT_SUSPENDED).agent("agt_1").build());
            return null;
        });
        // rolled back: neither, and the head does not move
        assertThrows(IllegalStateException.class, () -> audited.tx(t, (dsl, audit) -> {
            dsl.insertInto(TENANTS).set(TENANTS.ID, t + "-rb").set(TENANTS.DISPLAY_NAME, "x")
                    .set(TENANTS.CREATED_AT, 1L).set(TENANTS.UPDATED_AT, 1L).execute();
            audit.append(ev(t, EventTypes.AGENT_RESUMED).agent("agt_1").build());
            throw new IllegalStateException("boom");
        }));
        assertEquals(1, b.db.dsl().fetchCount(TENANTS, TENANTS.ID.eq(t + "-ok")));
        assertEquals(0, b.db.dsl().fetchCount(TENANTS, TENANTS.ID.eq(t + "-rb")));
        AuditEntry next = e.log().append(ev(t, EventTypes.AGENT_REVOKED).agent("agt_1").build());
        assertEquals(3, next.seq());
        assertEquals(List.of(EventTypes.AGENT_CREATED, EventTypes.AGENT_SUSPENDED, EventTypes.AGENT_REVOKED),
                b.store.range(t, 1, 10).stream().map(AuditEntry::type).toList());
        assertTrue(e.verifier().verify(t).ok());
        // a second log (another node) appends too: in-transaction appends re-read the head on conflict
        AuditLog other = new AuditLog(b.store);
        other.append(ev(t, EventTypes.AGENT_CREATED).agent("agt_2").build());
        audited.tx(t, (dsl, audit) -> audit.append(ev(t, EventTypes.AGENT_SUSPENDED).agent("agt_2").build()));
        assertTrue(e.verifier().verify(t).ok());
        assertEquals(5, b.store.head(t).orElseThrow().seq());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void concurrentInTransactionAndGroupCommitStayGapFree(TestBackends b) throws Exception {
        Env e = env(b);
        String t = e.tenant();
        var audited = new dev.deputy.broker.storage.AuditedTransactions(b.db, e.log());
        ExecutorService pool = Executors.newFixedThreadPool(16);
        List<Future<?>> fs = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            final int n = i;
            fs.add(pool.submit(() -> {
                if (n % 3 == 0) {
                    try {
                        audited.tx(t, (dsl, audit) -> {
                            audit.append(ev(t, EventTypes.AGENT_UPDATED).detail("n", n).build());
                            if (n % 2 == 0) {
                                throw new IllegalStateException("rollback");
                            }
                            return null;
                        });
                    } catch (IllegalStateException ignored) {
                        // rolled back on purpose
                    }
                } else {
                    e.log().append(ev(t, EventTypes.TOKEN_ISSUED).detail("n", n).build());
                }
            }));
        }
        for (Future<?> f : fs) {
            f.get();
        }
        pool.shutdown();
        AuditVerifier.Report r = e.verifier().verify(t);
        assertTrue(r.ok(), r.toString());
        long expected = 200 - 67 + 33; // group commits + committed in-transaction appends
        assertEquals(expected, r.checked());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void retentionArchivesThenVerifyPassesFromTheCheckpoint(TestBackends b) throws Exception {
        Env e = env(b);
        String t = e.tenant();
        for (int i = 0; i < 50; i++) {
            e.log().append(ev(t, EventTypes.TOKEN_ISSUED).agent("agt_R").detail("i", i).build());
        }
        Path dir = Files.createTempDirectory("audit-archive");
        AuditRetention retention = new AuditRetention(b.store, e.log(), e.verifier(), e.cps(), e.exporter(), dir);
        AuditArchive a = retention.archive(t, null, 30L);
        assertEquals(1, a.fromSeq());
        assertEquals(30, a.toSeq());
        assertEquals(30, a.entries());
        assertEquals(31L, b.store.firstSeq(t).orElseThrow());
        assertEquals(0, b.store.query(q(t).agent("agt_R").limit(1000).build()).stream().filter(x -> x.seq() <= 30).count());
        AuditVerifier.Report r = e.verifier().verify(t);
        assertTrue(r.ok(), r.toString());
        assertEquals("archive", r.anchor());
        assertEquals(31, r.fromSeq());
        assertEquals(21, r.checked()); // 31..50 and the audit.archived entry
        // the archive file verifies offline on its own
        String jwks = new JWKSet(new ArrayList<>(e.signer().published(t).values())).toString();
        OfflineVerifier.Result off = OfflineVerifier.verify(Path.of(a.fileName()), jwks);
        assertTrue(off.ok(), off.toString());
        assertEquals(30, off.entries());
        // a further archive by time: everything older than "now + 1 min" except the head
        AuditArchive a2 = retention.archive(t, System.currentTimeMillis() + 60_000, null);
        assertEquals(31, a2.fromSeq());
        assertTrue(e.verifier().verify(t).ok());
        // deleting the first remaining entry without a marker is still caught
        b.db.dsl().execute("delete from audit_log where tenant_id = ? and seq = ?", t, a2.toSeq() + 1);
        AuditVerifier.Report broken = e.verifier().verify(t);
        assertFalse(broken.ok());
        assertEquals("deleted", broken.problem());
        assertNull(null);
    }

    // a small builder for queries
    static QB q(String t) {
        return new QB(t);
    }

    static final class QB {
        final String t;
        Long from;
        Long to;
        String subject;
        String agent;
        String client;
        String resource;
        List<String> types;
        String outcome;
        String correlation;
        String requestId;
        long after;
        int limit = 100;

        QB(String t) {
            this.t = t;
        }

        QB time(Long f, Long u) {
            from = f;
            to = u;
            return this;
        }

        QB subject(String s) {
            subject = s;
            return this;
        }

        QB agent(String s) {
            agent = s;
            return this;
        }

        QB client(String s) {
            client = s;
            return this;
        }

        QB resource(String s) {
            resource = s;
            return this;
        }

        QB types(List<String> s) {
            types = s;
            return this;
        }

        QB outcome(String s) {
            outcome = s;
            return this;
        }

        QB correlation(String s) {
            correlation = s;
            return this;
        }

        QB requestId(String s) {
            requestId = s;
            return this;
        }

        QB after(long s) {
            after = s;
            return this;
        }

        QB limit(int s) {
            limit = s;
            return this;
        }

        AuditQuery build() {
            return new AuditQuery(t, from, to, subject, agent, client, resource, types, outcome, correlation, requestId, after, limit);
        }
    }
}
