package dev.deputy.broker.audit;

import com.nimbusds.jwt.JWTClaimsSet;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The count trigger's checkpoints run on a platform thread of their own, never on a virtual thread: a checkpoint
 * re-reads and re-hashes everything since the last one, and a virtual thread doing that holds one of the carriers the
 * requests run on for as long (virtual threads are not preempted). Requests append from virtual threads here, as the
 * broker's do.
 */
class AuditCheckpointsThreadTest {
    TestBackends b;

    @BeforeEach
    void start() throws Exception {
        b = TestBackends.h2();
    }

    @AfterEach
    void stop() throws Exception {
        b.shutdown();
    }

    /** Where each signature was made: the thread's name and whether it was virtual. */
    record Where(String thread, boolean virtual) {
    }

    @Test
    void theCountTriggerSignsOnTheCheckpointThreadNotOnARequestCarrier() throws Exception {
        String t = TestBackends.tenant();
        BlockingQueue<Where> signed = new ArrayBlockingQueue<>(16);
        TestBackends.MemorySigner keys = new TestBackends.MemorySigner();
        CheckpointSigner signer = new CheckpointSigner() {
            @Override
            public boolean canSign(String tenantId) {
                return keys.canSign(tenantId);
            }

            @Override
            public Signed sign(String tenantId, JWTClaimsSet claims) {
                signed.offer(new Where(Thread.currentThread().getName(), Thread.currentThread().isVirtual()));
                return keys.sign(tenantId, claims);
            }

            @Override
            public String activeKid(String tenantId) {
                return keys.activeKid(tenantId);
            }

            @Override
            public java.util.Map<String, com.nimbusds.jose.jwk.JWK> published(String tenantId) {
                return keys.published(tenantId);
            }
        };
        AuditLog log = new AuditLog(b.store);
        new AuditCheckpoints(b.store, log, new AuditVerifier(b.store, signer), signer, null, 5);
        Thread request = Thread.ofVirtual().start(() -> {
            for (int i = 0; i < 5; i++) {
                log.append(AuditEvent.of(t, EventTypes.POLICY_DECISION, AuditEvent.Outcome.SUCCESS)
                        .subject("jonathan.christopher.williams", "https://idp.example").agent("payments.settlement.reconciler")
                        .detail("tool", "transfer_funds").build());
            }
        });
        request.join();
        Where w = signed.poll(30, TimeUnit.SECONDS);
        assertNotNull(w, "the fifth entry triggers a checkpoint");
        assertFalse(w.virtual(), "signed on a virtual thread: " + w.thread());
        assertEquals("deputy-audit-checkpoints", w.thread());
        // recorded as it signs; stored just after
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (b.store.latestCheckpoint(t).isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        AuditCheckpoint c = b.store.latestCheckpoint(t).orElseThrow();
        assertEquals(5, c.seq());
        assertTrue(new AuditVerifier(b.store, signer).verifyRange(t, 1, 5).ok());
    }
}
