package dev.deputy.broker.audit;

import jakarta.inject.Singleton;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BooleanSupplier;

/**
 * Live entries for streaming: followers poll the store from their last seq (so they see other nodes' entries
 * and resume exactly after {@code Last-Event-ID}), and are woken at once when this node commits.
 */
@Singleton
public class AuditFeed {
    private static final long IDLE_POLL_MS = 1_000;
    private final AuditStore store;
    private final Map<String, Object> monitors = new ConcurrentHashMap<>();

    public AuditFeed(AuditStore store, AuditLog log) {
        this.store = store;
        log.addListener(last -> {
            Object m = monitors.get(last.tenantId());
            if (m != null) {
                synchronized (m) {
                    m.notifyAll();
                }
            }
        });
    }

    public interface Sink {
        /** Delivers one entry; false to stop. */
        boolean next(AuditEntry e);

        /** Called when nothing arrived for a while (keep-alive). */
        void idle();
    }

    /** Follows the tenant's chain after {@code afterSeq} until {@code stop} says so; blocking (virtual thread). */
    public void follow(String tenantId, long afterSeq, Sink sink, BooleanSupplier stop) {
        Object monitor = monitors.computeIfAbsent(tenantId, t -> new Object());
        long last = afterSeq;
        long idleSince = System.currentTimeMillis();
        while (!stop.getAsBoolean()) {
            List<AuditEntry> page = store.range(tenantId, last + 1, 500);
            for (AuditEntry e : page) {
                if (!sink.next(e)) {
                    return;
                }
                last = e.seq();
            }
            if (!page.isEmpty()) {
                idleSince = System.currentTimeMillis();
                continue;
            }
            if (System.currentTimeMillis() - idleSince > 15_000) {
                sink.idle();
                idleSince = System.currentTimeMillis();
            }
            synchronized (monitor) {
                try {
                    monitor.wait(IDLE_POLL_MS);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    public long head(String tenantId) {
        return store.head(tenantId).map(AuditEntry::seq).orElse(0L);
    }
}
