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
