package dev.deputy.broker.audit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every kind of tampering is reported at the first bad entry, on H2 and MariaDB. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AuditVerifierTamperTest {
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

    record Fixture(TestBackends b, String tenant, AuditLog log, AuditVerifier verifier, AuditCheckpoints cps,
                   TestBackends.MemorySigner signer) {
        void sql(String sql, Object... args) {
            b.db.dsl().execute(sql, args);
        }

        AuditEntry entry(long seq) {
            return b.store.range(tenant, seq, 1).get(0);
        }

        void put(AuditEntry e) {
            b.store.insert(List.of(e));
        }

        void shift(long fromSeq, long by) {
            // two steps so that no primary key collides mid-update
            sql("update audit_log set seq = seq + 1000000 where tenant_id = ? and seq >= ?", tenant, fromSeq);
            sql("update audit_log set seq = seq - 1000000 + ? where tenant_id = ? and seq >= 1000000", by, tenant);
        }
    }

    Fixture fixture(TestBackends b, int n) {
        String t = TestBackends.tenant();
        AuditLog log = new AuditLog(b.store);
        TestBackends.MemorySigner signer = new TestBackends.MemorySigner();
        AuditVerifier v = new AuditVerifier(b.store, signer);
        AuditCheckpoints cps = new AuditCheckpoints(b.store, log, v, signer, null, 0);
        for (int i = 1; i <= n; i++) {
            log.append(AuditEvent.of(t, EventTypes.TOKEN_ISSUED, AuditEvent.Outcome.SUCCESS)
                    .subject("user" + (i % 3), "https://idp.example").client("c1").agent("agt_" + (i % 2))
                    .detail("n", i).build());
        }
        return new Fixture(b, t, log, v, cps, signer);
    }

    static void assertBad(AuditVerifier.Report r, String problem, long seq) {
        assertFalse(r.ok(), "should fail: " + r);
        assertEquals(problem, r.problem(), r.toString());
        assertEquals(seq, r.firstBadSeq(), r.toString());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void cleanChainVerifiesWithCheckpoints(TestBackends b) {
        Fixture f = fixture(b, 20);
        AuditCheckpoint c = f.cps().checkpoint(f.tenant()).orElseThrow();
        assertEquals(20, c.seq());
        AuditVerifier.Report r = f.verifier().verify(f.tenant());
        assertTrue(r.ok(), r.toString());
        assertEquals(20, r.checked());
        assertEquals(1, r.checkpointsVerified());
        AuditVerifier.Report from = f.verifier().verify(f.tenant(), 11);
        assertTrue(from.ok(), from.toString());
        assertEquals(10, from.checked());
        assertEquals("entry", from.anchor());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void edited(TestBackends b) {
        Fixture f = fixture(b, 12);
        f.sql("update audit_log set subject = 'mallory' where tenant_id = ? and seq = 5", f.tenant());
        assertBad(f.verifier().verify(f.tenant()), "edited", 5);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void deletedLeavesGap(TestBackends b) {
        Fixture f = fixture(b, 12);
        f.sql("delete from audit_log where tenant_id = ? and seq = 5", f.tenant());
        assertBad(f.verifier().verify(f.tenant()), "deleted", 5);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void deletedAndRenumbered(TestBackends b) {
        Fixture f = fixture(b, 12);
        f.sql("delete from audit_log where tenant_id = ? and seq = 5", f.tenant());
        f.shift(6, -1);
        assertBad(f.verifier().verify(f.tenant()), "deleted", 5);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void inserted(TestBackends b) {
        Fixture f = fixture(b, 12);
        AuditEntry four = f.entry(4);
        f.shift(5, 1);
        AuditEntry forged = AuditSeal.seal(AuditEvent.of(f.tenant(), EventTypes.CONSENT_GRANTED,
                AuditEvent.Outcome.SUCCESS).subject("mallory", null).build(), 5, four.atMs(), four.hash());
        f.put(forged);
        assertBad(f.verifier().verify(f.tenant()), "inserted", 5);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void reordered(TestBackends b) {
        Fixture f = fixture(b, 12);
        f.sql("update audit_log set seq = 100 where tenant_id = ? and seq = 5", f.tenant());
        f.sql("update audit_log set seq = 5 where tenant_id = ? and seq = 6", f.tenant());
        f.sql("update audit_log set seq = 6 where tenant_id = ? and seq = 100", f.tenant());
        assertBad(f.verifier().verify(f.tenant()), "reordered", 5);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void rewrittenAndRehashedIsCaughtByCheckpoint(TestBackends b) {
        Fixture f = fixture(b, 12);
        f.cps().checkpoint(f.tenant()).orElseThrow(); // signs entry 12
        // the attacker edits entry 5 and re-hashes everything after it: the links all hold
        String prev = f.entry(4).hash();
        for (long s = 5; s <= 12; s++) {
            AuditEntry e = f.entry(s);
            AuditEntry changed = new AuditEntry(e.tenantId(), e.seq(), e.atMs(), e.type(), e.outcome(),
                    s == 5 ? "mallory" : e.subject(), e.subjectIss(), e.actor(), e.agentId(), e.clientId(), e.resource(),
                    e.scopes(), e.correlationId(), e.requestId(), e.sourceIp(), e.details(), prev, null, e.canon());
            String h = changed.computeHash();
            f.sql("update audit_log set subject = ?, prev_hash = ?, hash = ? where tenant_id = ? and seq = ?",
                    changed.subject(), prev, h, f.tenant(), s);
            prev = h;
        }
        assertBad(f.verifier().verify(f.tenant()), "checkpoint_mismatch", 12);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void truncatedTail(TestBackends b) {
        Fixture f = fixture(b, 12);
        f.cps().checkpoint(f.tenant()).orElseThrow();
        f.sql("delete from audit_log where tenant_id = ? and seq >= 10", f.tenant());
        assertBad(f.verifier().verify(f.tenant()), "truncated", 10);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void forgedCheckpoint(TestBackends b) {
        Fixture f = fixture(b, 12);
        f.cps().checkpoint(f.tenant()).orElseThrow();
        // a checkpoint signed by a key the tenant never published
        TestBackends.MemorySigner other = new TestBackends.MemorySigner();
        AuditEntry e = f.log().append(AuditEvent.of(f.tenant(), EventTypes.TOKEN_ISSUED, AuditEvent.Outcome.SUCCESS).build());
        CheckpointSigner.Signed s = other.sign(f.tenant(), new com.nimbusds.jwt.JWTClaimsSet.Builder()
                .claim("tenant", f.tenant()).claim("seq", e.seq()).claim("head", e.hash()).build());
        b.store.insertCheckpoint(new AuditCheckpoint(f.tenant(), e.seq(), e.hash(), e.atMs(), s.kid(), s.publicJwk(), s.jws()));
        assertBad(f.verifier().verify(f.tenant()), "checkpoint_signature", 13);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void retiredKeyIsTrustedThroughEndorsement(TestBackends b) {
        Fixture f = fixture(b, 5);
        f.cps().checkpoint(f.tenant()).orElseThrow();
        String oldKid = f.signer().active.getKeyID();
        f.signer().rotate();
        // the periodic step re-signs the unchanged head with the new key while the old one is still published
        AuditCheckpoint resigned = f.cps().periodic(f.tenant()).orElseThrow();
        assertEquals(5, resigned.seq());
        f.signer().unpublish(oldKid);
        AuditVerifier.Report r = f.verifier().verify(f.tenant());
        assertTrue(r.ok(), r.toString());
        assertEquals(2, r.checkpointsVerified());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void unendorsedRetiredKeyIsReported(TestBackends b) {
        Fixture f = fixture(b, 5);
        f.cps().checkpoint(f.tenant()).orElseThrow();
        String oldKid = f.signer().active.getKeyID();
        f.signer().rotate();
        f.signer().unpublish(oldKid); // rotated and dropped before any checkpoint by the new key
        assertBad(f.verifier().verify(f.tenant()), "checkpoint_signature", 5);
    }
}
