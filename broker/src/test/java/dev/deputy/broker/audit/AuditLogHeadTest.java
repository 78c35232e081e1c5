package dev.deputy.broker.audit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link AuditLog#head} reads the store without holding the chain: a slow head read (on the embedded default it first
 * indexes what was journaled, waiting for the indexer's round) must not hold the writer, and with it every request
 * waiting for its entry to be durable. The periodic checkpoint reads the head every 2 seconds; holding the chain
 * there stalled all audited requests for 100–400 ms each time under load.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AuditLogHeadTest {
    TestBackends b;
    /** Threads of its own: the common pool may have a single worker on a 2-core machine. */
    final ExecutorService threads = Executors.newCachedThreadPool();

    @BeforeAll
    void up() throws Exception {
        b = TestBackends.h2();
    }

    @AfterAll
    void down() throws Exception {
        threads.shutdownNow();
        b.shutdown();
    }

    /** The real store, whose next head read (once armed) blocks until released: before or after reading. */
    static final class SlowHead {
        final CountDownLatch entered = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        volatile boolean armed;
        final AuditStore store;

        SlowHead(AuditStore real, boolean afterRead) {
            store = (AuditStore) Proxy.newProxyInstance(AuditStore.class.getClassLoader(), new Class<?>[]{AuditStore.class},
                    (proxy, method, args) -> {
                        boolean hold = armed && method.getName().equals("head");
                        if (hold) {
                            armed = false;
                        }
                        if (hold && !afterRead) {
                            entered.countDown();
                            release.await();
                        }
                        Object r;
                        try {
                            r = method.invoke(real, args);
                        } catch (InvocationTargetException e) {
                            throw e.getCause();
                        }
                        if (hold && afterRead) {
                            entered.countDown();
                            release.await();
                        }
                        return r;
                    });
        }
    }

    /** An append on another thread, bounded: with the chain held elsewhere it would never return. */
    AuditEntry appendBounded(AuditLog log, AuditEvent e) throws Exception {
        return CompletableFuture.supplyAsync(() -> log.append(e), threads).get(30, TimeUnit.SECONDS);
    }

    static AuditEvent ev(String t, String agent) {
        return AuditEvent.of(t, EventTypes.TOKEN_ISSUED, AuditEvent.Outcome.SUCCESS).agent(agent).build();
    }

    @Test
    void appendsGoOnWhileTheHeadIsBeingRead() throws Exception {
        String t = TestBackends.tenant();
        SlowHead slow = new SlowHead(b.store, false);
        AuditLog log = new AuditLog(slow.store);
        assertEquals(1, log.append(ev(t, "payments.settlement.reconciler")).seq());

        slow.armed = true;
        CompletableFuture<AuditEntry.Head> head = CompletableFuture.supplyAsync(() -> log.head(t), threads);
        assertTrue(slow.entered.await(30, TimeUnit.SECONDS), "the head read started");
        // the head read is stuck in the store; appends (the writer thread) must not wait for it
        AuditEntry e2 = appendBounded(log, ev(t, "agent.ünïcode")); // with the chain held by head() this never returned
        assertEquals(2, e2.seq());
        assertTrue(!head.isDone(), "the head read is still blocked");

        slow.release.countDown();
        AuditEntry.Head h = head.get(30, TimeUnit.SECONDS);
        // the store was read after the second append was durable: the head is that entry
        assertEquals(2, h.seq());
        assertEquals(e2.hash(), h.hash());
        // the chain goes on from the newest entry, not from an older head read meanwhile
        AuditEntry e3 = log.append(ev(t, "x"));
        assertEquals(3, e3.seq());
        assertEquals(e2.hash(), e3.prevHash());
        assertTrue(new AuditVerifier(b.store, new TestBackends.MemorySigner()).verify(t).ok());
    }

    @Test
    void anOlderStoredHeadDoesNotRewindTheChain() throws Exception {
        String t = TestBackends.tenant();
        SlowHead slow = new SlowHead(b.store, true);
        AuditLog log = new AuditLog(slow.store);
        log.append(ev(t, "a"));
        // the store is read at seq 1, and the answer comes back only after two more appends committed
        slow.armed = true;
        CompletableFuture<AuditEntry.Head> head = CompletableFuture.supplyAsync(() -> log.head(t), threads);
        assertTrue(slow.entered.await(30, TimeUnit.SECONDS));
        appendBounded(log, ev(t, "b"));
        AuditEntry e3 = appendBounded(log, ev(t, "c"));
        slow.release.countDown();
        assertEquals(1, head.get(30, TimeUnit.SECONDS).seq()); // what the store held when it was read
        AuditEntry e4 = log.append(ev(t, "d")); // the chain stayed at 3: no conflict, no rewind
        assertEquals(4, e4.seq());
        assertEquals(e3.hash(), e4.prevHash());
        assertTrue(new AuditVerifier(b.store, new TestBackends.MemorySigner()).verify(t).ok());
    }

    @Test
    void aHeadAnotherNodeAppendedIsAdopted() throws Exception {
        String t = TestBackends.tenant();
        AuditLog a = new AuditLog(b.store);
        AuditLog other = new AuditLog(b.store); // another node on the same database
        a.append(ev(t, "a"));
        AuditEntry theirs = other.append(ev(t, "b"));
        AuditEntry.Head h = a.head(t);
        assertEquals(2, h.seq());
        assertEquals(theirs.hash(), h.hash());
        // the next append follows the other node's entry at once
        AuditEntry next = a.append(ev(t, "c"));
        assertEquals(3, next.seq());
        assertEquals(theirs.hash(), next.prevHash());
        assertTrue(new AuditVerifier(b.store, new TestBackends.MemorySigner()).verify(t).ok());
    }
}
