package dev.deputy.broker.http;

import dev.deputy.broker.testing.ConfigFixture;
import dev.deputy.broker.testing.TestBroker;
import io.micronaut.inject.qualifiers.Qualifiers;
import io.micronaut.scheduling.TaskExecutors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The executor behind {@code @ExecuteOn(BLOCKING)} (token, introspection, revocation, admin) runs every request
 * on a virtual thread of its own. A fixed pool would cap the requests in handlers at its size: with Micronaut's
 * default of 2 x cores that was four on this machine, each waiting for its audit commit, and MariaDB-backed
 * token requests stalled at about 2,000 req/s with 30 % of the CPU idle.
 */
class BlockingExecutorTest {
    @TempDir
    Path tmp;

    @Test
    void everyTaskGetsItsOwnVirtualThread() throws Exception {
        ConfigFixture cfg = ConfigFixture.at(tmp.resolve("config")).tenant("demo", "display_name: Demo\n");
        try (TestBroker broker = TestBroker.builder(tmp.resolve("data"), cfg.root()).start()) {
            ExecutorService blocking = broker.context()
                    .getBean(ExecutorService.class, Qualifiers.byName(TaskExecutors.BLOCKING));
            int tasks = 64; // far beyond any pool sized by the core count
            CountDownLatch allStarted = new CountDownLatch(tasks);
            CountDownLatch done = new CountDownLatch(tasks);
            Set<Thread> threads = ConcurrentHashMap.newKeySet();
            Set<Boolean> virtual = ConcurrentHashMap.newKeySet();
            for (int i = 0; i < tasks; i++) {
                blocking.execute(() -> {
                    threads.add(Thread.currentThread());
                    virtual.add(Thread.currentThread().isVirtual());
                    allStarted.countDown();
                    try {
                        // every task blocks until all of them run at once: impossible on a pool smaller than 64
                        if (allStarted.await(10, TimeUnit.SECONDS)) {
                            done.countDown();
                        }
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                });
            }
            assertTrue(done.await(15, TimeUnit.SECONDS),
                    "only " + (tasks - allStarted.getCount()) + " of " + tasks + " tasks ran at once");
            assertEquals(tasks, threads.size());
            assertEquals(Set.of(true), virtual);
        }
    }
}
