package dev.deputy.broker.storage.ephemeral;

import dev.deputy.broker.ephemeral.EphemeralStore;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/** The embedded default: one process, a concurrent map with expiry, local pub/sub. */
public final class InProcessEphemeralStore implements EphemeralStore {
    private record Entry(String value, long expiresAt) {
        boolean expired(long now) {
            return now - expiresAt >= 0;
        }
    }

    private final Map<String, Entry> map = new ConcurrentHashMap<>();
    private final UsedMarks marks = new UsedMarks();
    private final Map<String, List<Consumer<String>>> listeners = new ConcurrentHashMap<>();
    private final ScheduledExecutorService sweeper = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "ephemeral-sweeper");
        t.setDaemon(true);
        return t;
    });

    public InProcessEphemeralStore() {
        sweeper.scheduleWithFixedDelay(this::sweep, 10, 10, TimeUnit.SECONDS);
    }

    private static long deadline(Duration ttl) {
        if (ttl.isNegative() || ttl.isZero()) {
            throw new IllegalArgumentException("ttl must be positive");
        }
        return System.nanoTime() + ttl.toNanos();
    }

    void sweep() {
        long now = System.nanoTime();
        map.entrySet().removeIf(e -> e.getValue().expired(now));
        marks.compact();
    }

    @Override
    public void put(String key, String value, Duration ttl) {
        map.put(key, new Entry(value, deadline(ttl)));
    }

    @Override
    public Optional<String> get(String key) {
        Entry e = map.get(key);
        return e == null || e.expired(System.nanoTime()) ? Optional.empty() : Optional.of(e.value());
    }

    @Override
    public Optional<String> take(String key) {
        Entry e = map.remove(key);
        return e == null || e.expired(System.nanoTime()) ? Optional.empty() : Optional.of(e.value());
    }

    @Override
    public boolean putIfAbsent(String key, String value, Duration ttl) {
        long d = deadline(ttl);
        long now = System.nanoTime();
        AtomicReference<Boolean> stored = new AtomicReference<>(false);
        map.compute(key, (k, old) -> {
            if (old == null || old.expired(now)) {
                stored.set(true);
                return new Entry(value, d);
            }
            return old;
        });
        return stored.get();
    }

    @Override
    public boolean markUsed(String key, Duration ttl) {
        return marks.mark(key, ttl);
    }

    /** Live one-time marks (tests). */
    int marks() {
        return marks.size();
    }

    @Override
    public long increment(String key, Duration ttl) {
        long d = deadline(ttl);
        long now = System.nanoTime();
        Entry e = map.compute(key, (k, old) -> old == null || old.expired(now)
                ? new Entry("1", d)
                : new Entry(Long.toString(Long.parseLong(old.value()) + 1), old.expiresAt()));
        return Long.parseLong(e.value());
    }

    @Override
    public void delete(String key) {
        map.remove(key);
    }

    @Override
    public void publish(String channel, String message) {
        for (Consumer<String> l : listeners.getOrDefault(channel, List.of())) {
            Thread.ofVirtual().start(() -> l.accept(message));
        }
    }

    @Override
    public AutoCloseable subscribe(String channel, Consumer<String> listener) {
        listeners.computeIfAbsent(channel, c -> new CopyOnWriteArrayList<>()).add(listener);
        return () -> listeners.getOrDefault(channel, List.of()).remove(listener);
    }

    @Override
    public String name() {
        return "ephemeral";
    }

    @Override
    public String backend() {
        return "in-process";
    }

    @Override
    public boolean up() {
        return true;
    }

    @Override
    public void close() {
        sweeper.shutdownNow();
    }
}
