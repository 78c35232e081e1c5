package dev.deputy.broker.storage.ephemeral;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class UsedMarksTest {
    private static final Duration LONG = Duration.ofMinutes(10);

    @Test
    void aMillionMarksEachOnceAndAllRemembered() {
        UsedMarks marks = new UsedMarks();
        int n = 1_000_000;
        for (int i = 0; i < n; i++) {
            assertTrue(marks.mark("pkjwt-jti:demo:payments.settlement.reconciler:" + i, LONG));
        }
        assertEquals(n, marks.size());
        for (int i = 0; i < n; i += 997) {
            assertFalse(marks.mark("pkjwt-jti:demo:payments.settlement.reconciler:" + i, LONG), "replay of " + i);
        }
        assertTrue(marks.mark("pkjwt-jti:demo:payments.settlement.reconciler:" + n, LONG));
    }

    @Test
    void expiredMarksAreForgottenAndTheirSlotsReused() throws Exception {
        UsedMarks marks = new UsedMarks();
        for (int i = 0; i < 10_000; i++) {
            assertTrue(marks.mark("short:" + i, Duration.ofMillis(50)));
        }
        assertTrue(marks.mark("long", LONG));
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (marks.size() > 1 && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        assertEquals(1, marks.size(), "only the long mark lives");
        marks.compact();
        assertEquals(1, marks.size());
        assertFalse(marks.mark("long", LONG), "compacting keeps the live mark");
        for (int i = 0; i < 10_000; i++) {
            assertTrue(marks.mark("short:" + i, LONG), "expired " + i + " can be marked again");
        }
        assertEquals(10_001, marks.size());
    }

    @Test
    void pastItsHeapBudgetAMarkIsRefusedNotRecordedAndAcceptedAgainOnceMarksExpire() throws Exception {
        // 16 stripes of at least 64 slots: a budget of 4,096 slots holds ~1,500-3,000 live marks
        UsedMarks marks = new UsedMarks(4_096);
        int accepted = 0;
        dev.deputy.broker.health.ServiceUnavailableException refused = null;
        for (int i = 0; i < 100_000 && refused == null; i++) {
            try {
                assertTrue(marks.mark("pkjwt-jti:demo:payments.settlement.reconciler:" + i, Duration.ofMillis(300)));
                accepted++;
            } catch (dev.deputy.broker.health.ServiceUnavailableException e) {
                refused = e;
                assertEquals("replay cache", e.dependency());
                // the refused key was not marked: once there is room it is a first use
                String key = "pkjwt-jti:demo:payments.settlement.reconciler:" + i;
                long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
                boolean markedLater = false;
                while (!markedLater && System.nanoTime() < deadline) {
                    marks.compact();
                    try {
                        markedLater = marks.mark(key, LONG);
                        assertTrue(markedLater, "a refused key is not remembered");
                    } catch (dev.deputy.broker.health.ServiceUnavailableException stillFull) {
                        Thread.onSpinWait();
                    }
                }
                assertTrue(markedLater, "marks expire and make room again");
                assertFalse(marks.mark(key, LONG), "and then it is marked");
            }
        }
        assertTrue(refused != null, "refused past the budget");
        assertTrue(accepted >= 1_000 && accepted <= 4_096, "accepted " + accepted + " within 4,096 slots");
        // live marks are never dropped to make room: every accepted one still counts as used while it lives
        UsedMarks full = new UsedMarks(4_096);
        List<String> kept = new ArrayList<>();
        try {
            for (int i = 0; ; i++) {
                full.mark("k" + i, LONG);
                kept.add("k" + i);
            }
        } catch (dev.deputy.broker.health.ServiceUnavailableException expected) {
            // full
        }
        for (String k : kept) {
            assertFalse(full.mark(k, LONG), "replay of " + k + " refused as a replay, not accepted");
        }
    }

    @Test
    void theDefaultBudgetIsAThirdOfTheHeap() {
        UsedMarks marks = new UsedMarks();
        long slots = (long) (Runtime.getRuntime().maxMemory() * UsedMarks.HEAP_SHARE / 24);
        // a million marks need ~1.4-2.7 M slots: the test JVM's heap holds them (surefire's -Xmx)
        assertTrue(slots > 2_000_000, "budget " + slots + " slots");
        assertTrue(marks.mark("one", LONG));
    }

    @Test
    void concurrentMarkersAgreeOnOneWinnerPerKey() throws Exception {
        UsedMarks marks = new UsedMarks();
        int threads = 8, keys = 50_000;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Callable<Integer>> work = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                work.add(() -> {
                    int won = 0;
                    for (int i = 0; i < keys; i++) {
                        if (marks.mark("jti:" + i, LONG)) {
                            won++;
                        }
                    }
                    return won;
                });
            }
            int total = 0;
            for (Future<Integer> f : pool.invokeAll(work)) {
                total += f.get();
            }
            assertEquals(keys, total, "every key won exactly once across all threads");
            assertEquals(keys, marks.size());
        } finally {
            pool.shutdownNow();
        }
    }
}
