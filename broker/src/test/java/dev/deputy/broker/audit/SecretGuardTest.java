package dev.deputy.broker.audit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Typed audit details: identifiers pass byte for byte; credentials and undeclared keys are redacted with an alarm. */
class SecretGuardTest {
    static final String JWT = "eyJhbGciOiJFUzI1NiIsInR5cCI6ImF0K2p3dCJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLWJ5dGVz";
    static final String JWE = "eyJhbGciOiJSU0EtT0FFUCIsImVuYyI6IkEyNTZHQ00ifQ.aaaaaaaa.bbbbbbbb.cccccccc.dddddddd";
    /** Real identifiers the former three-segment heuristic refused (issue 13, finding 3). */
    static final List<String> HOSTILE = List.of("payments.settlement.reconciler", "jonathan.christopher.williams",
            "inventory.warehouse.example", "frontend.dashboard.production", "payments.settlement.approvers",
            "00u/ä+ |x", "https://inventory.warehouse.example/mcp", "ünïcødé.ïdèntïfïér.with spaces",
            "a".repeat(40) + "." + "b".repeat(40) + "." + "c".repeat(40));
    /** Three long labels: a details identifier, never a credential (entry columns cap it: see the too-long test). */
    static final String LONG = "a".repeat(300) + "." + "b".repeat(300) + "." + "c".repeat(300);

    final List<AuditAlarms.Alarm> alarms = new CopyOnWriteArrayList<>();
    AutoCloseable hook;

    @BeforeEach
    void listen() {
        hook = AuditAlarms.listen(alarms::add);
    }

    @AfterEach
    void unlisten() throws Exception {
        hook.close();
    }

    static AuditEvent.Builder ev() {
        return AuditEvent.of("demo", EventTypes.TOKEN_ISSUED, AuditEvent.Outcome.SUCCESS);
    }

    @Test
    void identifiersAreKeptByteForByteEverywhere() {
        for (String id : HOSTILE) {
            AuditEvent e = AuditEvent.of("demo", EventTypes.TOKEN_EXCHANGED, AuditEvent.Outcome.SUCCESS)
                    .subject(id, id).client(id).agent(id).resource(id).scopes(id).actors(List.of(id, id))
                    .detail("jti", id).detail("subject_jti", id).detail("rule", id).detail("requested", List.of(id))
                    .detail("reason", "allowed for " + id).build();
            assertEquals(id, e.subject());
            assertEquals(id, e.subjectIss());
            assertEquals(id, e.clientId());
            assertEquals(id, e.agentId());
            assertEquals(id, e.resource());
            assertEquals(id, e.scopes());
            assertEquals(List.of(id, id), e.actorChain());
            assertEquals(id, e.details().get("jti"));
            assertEquals(List.of(id), e.details().get("requested"));
            assertEquals("allowed for " + id, e.details().get("reason"));
            AuditEntry sealed = AuditSeal.seal(e, 1, 1L, AuditEntry.GENESIS);
            assertEquals(sealed.hash(), sealed.computeHash());
        }
        // nested objects of declared fields: an agent snapshot with hostile owner, roles and metadata
        AuditEvent created = AuditEvent.of("demo", EventTypes.AGENT_CREATED, AuditEvent.Outcome.SUCCESS)
                .agent(HOSTILE.get(0)).detail("actor", "admin:admin")
                .detail("after", Map.of("owner", HOSTILE.get(1), "roles", List.of(HOSTILE.get(4)), "name", HOSTILE.get(5),
                        "metadata", Map.of("team", HOSTILE.get(2))))
                .build();
        @SuppressWarnings("unchecked")
        Map<String, Object> after = (Map<String, Object>) created.details().get("after");
        assertEquals(HOSTILE.get(1), after.get("owner"));
        assertEquals(List.of(HOSTILE.get(4)), after.get("roles"));
        assertEquals(Map.of("team", HOSTILE.get(2)), after.get("metadata"));
        assertTrue(alarms.isEmpty(), () -> "no alarm for identifiers: " + alarms);
    }

    /** An alarm names where the value sat, through declared objects, lists and undeclared maps alike. */
    @Test
    void alarmsNameTheNestedPlaceOfTheValue() {
        AuditEvent e = AuditEvent.of("demo", EventTypes.POLICY_DECISION, AuditEvent.Outcome.ALLOW)
                .detail("arguments", Map.of("note", List.of("ok", "Bearer " + JWT)))
                .detail(PolicyDecisions.DECISIONS, List.of(Map.of("index", 0), Map.of("index", 1, "reason", JWT,
                        "arguments", Map.of("client_secret", "s3cr3t"))))
                .build();
        assertEquals(List.of("details.arguments.note[1]", "details.decisions[1].arguments.client_secret",
                        "details.decisions[1].reason"),
                alarms.stream().map(AuditAlarms.Alarm::path).sorted().toList());
    }

    @Test
    void credentialsInIdentifierFieldsAreRedactedNotRefused() {
        AuditEvent e = AuditEvent.of("demo", EventTypes.TOKEN_REJECTED, AuditEvent.Outcome.FAILURE)
                .client(JWT).agent("Bearer " + JWT).subject(JWE, null)
                .detail("error", "invalid_client").build();
        assertEquals("[redacted:jwt]", e.clientId());
        assertEquals("[redacted:jwt]", e.agentId());
        assertEquals("[redacted:jwt]", e.subject());
        assertEquals(3, alarms.size(), alarms::toString);
        assertEquals(List.of("subject", "client_id", "agent_id"), alarms.stream().map(AuditAlarms.Alarm::path).toList());
        // a caller-chosen X-Request-Id becomes the correlation id: a short JWT there is redacted as well
        String shortJwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln";
        AuditEvent c = AuditEvent.of("demo", EventTypes.TOKEN_REJECTED, AuditEvent.Outcome.FAILURE)
                .request(new RequestMeta(shortJwt, "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", "127.0.0.1")).build();
        assertEquals("[redacted:jwt]", c.correlationId());
        assertEquals("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", c.requestId());
        assertEquals("jwt", alarms.get(0).reason());
        assertEquals(EventTypes.TOKEN_REJECTED, alarms.get(0).type());
    }

    @Test
    void credentialsInsideReasonTextAreCutOutAndTheRestKept() {
        AuditEvent e = ev().detail("grant_type", "client_credentials").detail("jti", "j1").build();
        assertTrue(alarms.isEmpty());
        AuditEvent r = AuditEvent.of("demo", EventTypes.TOKEN_REJECTED, AuditEvent.Outcome.FAILURE)
                .detail("reason", "assertion " + JWT + " expired")
                .detail("error", "invalid_client").build();
        assertEquals("assertion [redacted:jwt] expired", r.details().get("reason"));
        AuditEvent pem = AuditEvent.of("demo", EventTypes.AGENT_CERTIFICATE_ISSUED, AuditEvent.Outcome.FAILURE)
                .detail("reason", "bad CSR -----BEGIN EC PRIVATE KEY-----\nMHcCAQEE\n-----END EC PRIVATE KEY----- here").build();
        assertEquals("bad CSR [redacted:private_key] here", pem.details().get("reason"));
        AuditEvent admin = AuditEvent.of("demo", EventTypes.ADMIN_REQUEST_REJECTED, AuditEvent.Outcome.FAILURE)
                .detail("error_description", "token dpa_abcdefghijklmnopqrstuvwxyz012345 unknown")
                .detail("path", "/admin?x=drt_abcdefghijklmnopqrstuvwxyz0123").build();
        assertEquals("token [redacted:admin_token] unknown", admin.details().get("error_description"));
        assertEquals("/admin?x=[redacted:refresh_token]", admin.details().get("path"));
        assertEquals(List.of("jwt", "private_key", "admin_token", "refresh_token"),
                alarms.stream().map(AuditAlarms.Alarm::reason).toList());
        assertEquals("j1", e.details().get("jti"));
    }

    @Test
    void undeclaredKeysAndWrongKindsHaveNoPlaceToLand() {
        long before = AuditAlarms.total();
        AuditEvent e = ev().detail("access_token", JWT).detail("client_secret", "hunter2")
                .detail("assertion", "x").detail("note", "anything").detail("cert_bound", "yes")
                .detail("exp", Map.of("nested", JWT)).detail("jti", List.of("a", "b"))
                .build();
        assertEquals("[redacted:undeclared]", e.details().get("access_token"));
        assertEquals("[redacted:undeclared]", e.details().get("client_secret"));
        assertEquals("[redacted:undeclared]", e.details().get("assertion"));
        assertEquals("[redacted:undeclared]", e.details().get("note"));
        assertEquals("[redacted:kind]", e.details().get("cert_bound"));
        assertEquals("[redacted:kind]", e.details().get("exp"));
        assertEquals("[redacted:kind]", e.details().get("jti"));
        assertFalse(AuditSeal.seal(e, 1, 1L, AuditEntry.GENESIS).details().contains("hunter2"));
        assertEquals(7, alarms.size(), alarms::toString);
        assertEquals(before + 7, AuditAlarms.total());
        assertTrue(AuditAlarms.counts().get("undeclared") >= 4);
        // nested objects have declared fields too: a key outside the snapshot shape is redacted
        AuditEvent a = AuditEvent.of("demo", EventTypes.AGENT_UPDATED, AuditEvent.Outcome.SUCCESS)
                .detail("after", Map.of("owner", "o", "private_key", "-----BEGIN PRIVATE KEY-----"))
                .detail("before", Map.of("metadata", Map.of("password", "hunter2", "team", "ok"))).build();
        assertEquals("[redacted:undeclared]", ((Map<?, ?>) a.details().get("after")).get("private_key"));
        assertEquals(Map.of("password", "[redacted:secret_key]", "team", "ok"),
                ((Map<?, ?>) a.details().get("before")).get("metadata"));
    }

    @Test
    void typesOutsideTheCatalogueKeepTheirDetailsScanned() {
        AuditEvent e = AuditEvent.of("demo", "test.event", AuditEvent.Outcome.INFO)
                .detail("n", 3).detail("nested", Map.of("x", List.of(JWT), "password", "hunter2", "ok", "é")).build();
        assertEquals(3, e.details().get("n"));
        assertEquals(Map.of("x", List.of("[redacted:jwt]"), "password", "[redacted:secret_key]", "ok", "é"),
                e.details().get("nested"));
        assertTrue(alarms.stream().anyMatch(a -> a.reason().equals("undeclared_type")));
    }

    @Test
    void identifiersLongerThanTheirColumnAreShortenedWithTheirDigestNotRefused() {
        String sub = "jonathan.christopher.williams." + "ü".repeat(300);
        String actor = "agent." + "a".repeat(200);
        AuditEvent e = AuditEvent.of("demo", EventTypes.TOKEN_EXCHANGED, AuditEvent.Outcome.SUCCESS)
                .subject(sub, "https://idp.example.com/").actors(List.of(actor, "agt_short")).agent(actor)
                .scopes("s".repeat(5000)).build();
        assertEquals(255, e.subject().length());
        assertTrue(e.subject().startsWith("jonathan.christopher.williams.üü"), e.subject());
        assertTrue(e.subject().endsWith("…sha256:" + AuditEntry.sha256Hex(sub)), e.subject());
        assertEquals(128, e.agentId().length());
        assertEquals(List.of(e.agentId(), "agt_short"), e.actorChain());
        assertEquals(5000, e.scopes().length(), "scopes are not indexed: kept whole");
        assertEquals("https://idp.example.com/", e.subjectIss());
        assertEquals(List.of("subject", "agent_id", "actor"), alarms.stream().map(AuditAlarms.Alarm::path).toList());
        assertTrue(alarms.stream().allMatch(a -> a.reason().equals("too_long")));
    }

    @Test
    void onlyRealCredentialsAreRecognised() {
        for (String id : HOSTILE) {
            assertNull(SecretGuard.find(id), id);
        }
        assertNull(SecretGuard.find(LONG));
        assertEquals(LONG, ev().detail("jti", LONG).build().details().get("jti"));
        // three dotted segments starting like a JOSE header but not decoding to one
        assertNull(SecretGuard.find("eyJustAName.second-label.third-label"));
        assertEquals(SecretGuard.Found.JWT, SecretGuard.find(JWT));
        assertEquals(SecretGuard.Found.JWT, SecretGuard.find(JWE));
        assertEquals(SecretGuard.Found.PRIVATE_KEY, SecretGuard.find("-----BEGIN RSA PRIVATE KEY-----\nMIIE"));
        assertEquals(SecretGuard.Found.ADMIN_TOKEN, SecretGuard.find("dpa_abcdefghijklmnopqrstuvwxyz012345"));
    }

    @Test
    void everyCatalogueTypeIsDeclared() {
        assertEquals(new java.util.TreeSet<>(EventTypes.ALL), new java.util.TreeSet<>(AuditSchema.all().keySet()),
                "declare the details of every EventTypes type in AuditSchema (and only those)");
    }

    @Test
    void secretKeysAreRememberedWithTheSameAnswer() {
        List<String> keys = List.of("client_secret", "Password", "amount", "x-api-token", "token_type", "iban",
                "access_token", "subject.groups", "", "authorization", "bearer_of_news", "ä".repeat(200));
        for (int round = 0; round < 3; round++) { // first from the pattern, then remembered
            for (String k : keys) {
                assertEquals(SecretGuard.secretKeyNow(k), SecretGuard.secretKey(k), k);
            }
        }
        assertTrue(SecretGuard.secretKey("client_secret"));
        assertFalse(SecretGuard.secretKey("amount"));
        // past the bound the memory starts over; answers stay right
        for (int i = 0; i < 5000; i++) {
            String k = (i % 2 == 0 ? "arg_" : "my_secret_") + i;
            assertEquals(i % 2 != 0, SecretGuard.secretKey(k), k);
            assertEquals(i % 2 != 0, SecretGuard.secretKey(k), k);
        }
        assertTrue(SecretGuard.secretKey("client_secret"));
    }
}
