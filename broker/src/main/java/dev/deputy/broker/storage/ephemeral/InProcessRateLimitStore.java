package dev.deputy.broker.storage.ephemeral;

import dev.deputy.broker.config.Limit;
import dev.deputy.broker.ratelimit.RateLimitStore;
import io.github.bucket4j.Bandwidth;
import io.github.bucket4j.Bucket;
import io.github.bucket4j.ConsumptionProbe;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The embedded default: Bucket4j's lock-free local buckets in a map. A bucket idle for a whole period of its limit
 * is full again, so the sweeper drops it (and a new one starts full): memory follows the active keys.
 */
public final class InProcessRateLimitStore implements RateLimitStore, AutoCloseable {
    private static final class Entry {
        final Bucket bucket;
        final long idleNanos;
        volatile long lastUsed;

        Entry(Bucket bucket, long idleNanos) {
            this.bucket = bucket;
            this.idleNanos = idleNanos;
        }
    }

    private final Map<String, Entry> buckets = new ConcurrentHashMap<>();
    private final ScheduledExecutorService sweeper = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "rate-limit-sweeper");
        t.setDaemon(true);
        return t;
    });

    public InProcessRateLimitStore() {
        sweeper.scheduleWithFixedDelay(this::sweep, 10, 10, TimeUnit.SECONDS);
    }

    void sweep() {
        long now = System.nanoTime();
        buckets.values().removeIf(e -> now - e.lastUsed > e.idleNanos);
    }

    int size() {
        return buckets.size();
    }

    @Override
    public Probe take(String key, Limit limit) {
        Entry e = buckets.computeIfAbsent(key, k -> new Entry(Bucket.builder()
                .addLimit(Bandwidth.builder().capacity(limit.requests())
                        .refillGreedy(limit.requests(), limit.period()).build())
                .build(), limit.period().toNanos()));
        e.lastUsed = System.nanoTime();
        ConsumptionProbe p = e.bucket.tryConsumeAndReturnRemaining(1);
        return p.isConsumed() ? Probe.ALLOWED : new Probe(false, p.getNanosToWaitForRefill());
    }

    @Override
    public String backend() {
        return "in-process (Bucket4j local buckets)";
    }

    @Override
    public void close() {
        sweeper.shutdownNow();
    }
}
