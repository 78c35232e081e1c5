package dev.deputy.broker.storage.ephemeral;

import dev.deputy.broker.ephemeral.EphemeralStore;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The contract of {@link EphemeralStore}: the in-process store and Redis behave the same, including the
 * single-use guarantees that codes, jti replay and refresh rotation rely on.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class EphemeralStoreContract {
    static final Duration LONG = Duration.ofMinutes(5);
    static final Duration SHORT = Duration.ofMillis(300);
    EphemeralStore store;

    abstract EphemeralStore open();

    abstract String expectedBackend();

    @BeforeAll
    void openStore() {
        store = open();
    }

    @AfterAll
    void closeStore() {
        if (store != null) {
            store.close();
        }
    }

    static String key(String purpose) {
        return purpose + ":t:" + UUID.randomUUID();
    }

    static void eventually(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within 5 s: " + what);
            }
            Thread.sleep(20);
        }
    }

    @Test
    void nameBackendAndHealth() {
        assertEquals("ephemeral", store.name());
        assertEquals(expectedBackend(), store.backend());
        assertTrue(store.up());
    }

    @Test
    void putGetOverwriteDelete() {
        String k = key("code");
        assertEquals(Optional.empty(), store.get(k));
        store.put(k, "v1", LONG);
        assertEquals(Optional.of("v1"), store.get(k));
        assertEquals(Optional.of("v1"), store.get(k), "get does not consume");
        store.put(k, "v2 with spaces, unicode é ✓ and {\"json\":true}", LONG);
        assertEquals(Optional.of("v2 with spaces, unicode é ✓ and {\"json\":true}"), store.get(k));
        store.delete(k);
        assertEquals(Optional.empty(), store.get(k));
        store.delete(k);   // deleting nothing is fine
    }

    @Test
    void valuesExpireAfterTheirTtl() throws Exception {
        String k = key("state");
        store.put(k, "v", SHORT);
        assertEquals(Optional.of("v"), store.get(k));
        eventually("value expires", () -> store.get(k).isEmpty());
        assertEquals(Optional.empty(), store.take(k), "an expired value cannot be taken");
    }

    @Test
    void nonPositiveTtlIsRejected() {
        // a caller's bug, not an unavailable backend (which would be a 503)
        assertThrows(IllegalArgumentException.class, () -> store.put(key("x"), "v", Duration.ZERO));
        assertThrows(IllegalArgumentException.class, () -> store.put(key("x"), "v", Duration.ofSeconds(-1)));
        assertThrows(IllegalArgumentException.class, () -> store.putIfAbsent(key("x"), "v", Duration.ZERO));
        assertThrows(IllegalArgumentException.class, () -> store.increment(key("x"), Duration.ZERO));
    }

    @Test
    void takeReturnsOnceAndRemoves() {
        String k = key("code");
        store.put(k, "the-code", LONG);
        assertEquals(Optional.of("the-code"), store.take(k));
        assertEquals(Optional.empty(), store.take(k));
        assertEquals(Optional.empty(), store.get(k));
        assertEquals(Optional.empty(), store.take(key("never")));
    }

    @Test
    void putIfAbsentStoresOnceUntilExpiry() throws Exception {
        String k = key("jti");
        assertTrue(store.putIfAbsent(k, "first", SHORT));
        assertFalse(store.putIfAbsent(k, "second", SHORT));
        assertEquals(Optional.of("first"), store.get(k));
        eventually("jti entry expires", () -> store.get(k).isEmpty());
        assertTrue(store.putIfAbsent(k, "third", LONG), "after expiry the key is free again");
        assertEquals(Optional.of("third"), store.get(k));
    }

    @Test
    void markUsedIsTrueOnceUntilExpiry() throws Exception {
        String k = key("pkjwt-jti:tenant.één:payments.settlement.reconciler:" + "ä".repeat(40));
        assertTrue(store.markUsed(k, SHORT));
        assertFalse(store.markUsed(k, LONG), "a replay within the ttl");
        assertTrue(store.markUsed(key("pkjwt-jti:other"), LONG), "another key is independent");
        eventually("the mark expires and the key can be marked again", () -> store.markUsed(k, LONG));
        assertFalse(store.markUsed(k, LONG), "marked again, for the long ttl");
        assertThrows(IllegalArgumentException.class, () -> store.markUsed(key("x"), Duration.ZERO));
    }

    @Test
    void concurrentMarksOfOneKeyHaveOneWinner() throws Exception {
        String k = key("jti-race");
        assertEquals(1, race(() -> store.markUsed(k, LONG)));
    }

    @Test
    void incrementCountsWithinTheTtlWindow() throws Exception {
        String k = key("rate");
        assertEquals(1, store.increment(k, SHORT));
        assertEquals(2, store.increment(k, SHORT));
        assertEquals(3, store.increment(k, Duration.ofMinutes(10)), "later increments keep the first TTL");
        eventually("counter window ends", () -> store.get(k).isEmpty());
        assertEquals(1, store.increment(k, LONG));
    }

    @Test
    void concurrentIncrementsLoseNothing() throws Exception {
        String k = key("rate");
        List<Callable<Long>> tasks = new ArrayList<>();
        for (int i = 0; i < 32 * 10; i++) {
            tasks.add(() -> store.increment(k, LONG));
        }
        try (ExecutorService pool = Executors.newFixedThreadPool(32)) {
            for (Future<Long> f : pool.invokeAll(tasks, 30, TimeUnit.SECONDS)) {
                f.get();
            }
        }
        assertEquals(321, store.increment(k, LONG));
    }

    /** Runs 32 racers released at once and returns how many won. */
    static int race(Callable<Boolean> racer) throws Exception {
        int n = 32;
        CountDownLatch ready = new CountDownLatch(n);
        CountDownLatch go = new CountDownLatch(1);
        List<Future<Boolean>> results = new ArrayList<>();
        try (ExecutorService pool = Executors.newFixedThreadPool(n)) {
            for (int i = 0; i < n; i++) {
                results.add(pool.submit(() -> {
                    ready.countDown();
                    go.await();
                    return racer.call();
                }));
            }
            assertTrue(ready.await(10, TimeUnit.SECONDS));
            go.countDown();
            int winners = 0;
            for (Future<Boolean> f : results) {
                if (f.get(30, TimeUnit.SECONDS)) {
                    winners++;
                }
            }
            return winners;
        }
    }

    @RepeatedTest(5)
    void exactlyOneOf32ConcurrentTakesWins() throws Exception {
        String k = key("code");
        store.put(k, "single-use", LONG);
        assertEquals(1, race(() -> store.take(k).isPresent()));
        assertEquals(Optional.empty(), store.get(k));
    }

    @RepeatedTest(5)
    void exactlyOneOf32ConcurrentPutIfAbsentWins() throws Exception {
        String k = key("jti");
        String[] winner = new String[1];
        assertEquals(1, race(() -> {
            String mine = UUID.randomUUID().toString();
            boolean won = store.putIfAbsent(k, mine, LONG);
            if (won) {
                winner[0] = mine;
            }
            return won;
        }));
        assertEquals(Optional.of(winner[0]), store.get(k), "the stored value is the winner's");
    }

    @Test
    void publishReachesEverySubscriberOfTheChannel() throws Exception {
        String channel = key("revoked");
        BlockingQueue<String> a = new LinkedBlockingQueue<>();
        BlockingQueue<String> b = new LinkedBlockingQueue<>();
        BlockingQueue<String> other = new LinkedBlockingQueue<>();
        AutoCloseable subA = store.subscribe(channel, a::add);
        AutoCloseable subB = store.subscribe(channel, b::add);
        AutoCloseable subOther = store.subscribe(key("other"), other::add);
        try {
            store.publish(channel, "agt_01:revoked");
            assertEquals("agt_01:revoked", a.poll(5, TimeUnit.SECONDS));
            assertEquals("agt_01:revoked", b.poll(5, TimeUnit.SECONDS));
            subA.close();
            store.publish(channel, "second");
            assertEquals("second", b.poll(5, TimeUnit.SECONDS));
            assertNull(a.poll(300, TimeUnit.MILLISECONDS), "an unsubscribed listener gets nothing");
            assertNull(other.poll(100, TimeUnit.MILLISECONDS), "other channels get nothing");
        } finally {
            subB.close();
            subOther.close();
        }
    }

    @Test
    void publishWithoutSubscribersIsFine() {
        store.publish(key("nobody"), "hello");
    }
}
