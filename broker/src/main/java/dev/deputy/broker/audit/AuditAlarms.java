package dev.deputy.broker.audit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;

/**
 * Raised when an audit event carried something its type does not declare, or something shaped like a
 * credential: the value was redacted (never the event refused) and a developer has a bug to fix. Each alarm
 * is an ERROR log line ({@code audit alarm: ...}, logger {@code dev.deputy.broker.audit.AuditAlarms}), a count
 * per reason ({@link #counts()}, {@link #total()}), and a call to every registered listener (tests register one
 * and fail on any alarm they did not provoke).
 */
public final class AuditAlarms {
    private static final Logger LOG = LoggerFactory.getLogger(AuditAlarms.class);
    private static final Map<String, LongAdder> COUNTS = new ConcurrentHashMap<>();
    private static final AtomicLong TOTAL = new AtomicLong();
    private static final List<Consumer<Alarm>> LISTENERS = new CopyOnWriteArrayList<>();

    private AuditAlarms() {
    }

    /**
     * One alarm: the event's tenant and type, the path of the value ({@code details.reason}, {@code client_id}),
     * why ({@code jwt}, {@code private_key}, {@code undeclared}, {@code kind}, {@code secret_key}, {@code undeclared_type})
     * — never the value itself.
     */
    public record Alarm(String tenantId, String type, String path, String reason) {
    }

    static void raise(String tenantId, String type, String path, String reason) {
        Alarm a = new Alarm(tenantId, type, path, reason);
        TOTAL.incrementAndGet();
        COUNTS.computeIfAbsent(reason, k -> new LongAdder()).increment();
        LOG.error("audit alarm: {} at {} of a {} event (tenant {}); the value was redacted", reason, path, type, tenantId);
        for (Consumer<Alarm> l : LISTENERS) {
            try {
                l.accept(a);
            } catch (RuntimeException ignored) {
                // a listener never breaks an audit append
            }
        }
    }

    /** Registers a listener; returns a handle that removes it. */
    public static AutoCloseable listen(Consumer<Alarm> listener) {
        LISTENERS.add(listener);
        return () -> LISTENERS.remove(listener);
    }

    /** Alarms raised since start, by reason. */
    public static Map<String, Long> counts() {
        Map<String, Long> out = new java.util.TreeMap<>();
        COUNTS.forEach((k, v) -> out.put(k, v.sum()));
        return out;
    }

    public static long total() {
        return TOTAL.get();
    }
}
