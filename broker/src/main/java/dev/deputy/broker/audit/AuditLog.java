package dev.deputy.broker.audit;

import jakarta.inject.Singleton;

import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Appends events to the tenant's hash chain and returns once they are durable.
 *
 * <p>Group commit: concurrent appenders queue their events; whoever holds the tenant's lock seals
 * everything queued so far into one batch and writes it in one transaction. The chain stays single and
 * gap-free per tenant without one broker-wide lock, and a busy tenant pays one commit per batch, not per
 * event. Another node writing the same tenant shows up as a sequence conflict: the head is re-read and
 * the batch re-sealed.
 */
@Singleton
public class AuditLog {
    private static final int MAX_BATCH = 512;
    private static final int MAX_CONFLICT_RETRIES = 50;

    private final AuditStore store;
    private final Clock clock;
    private final Map<String, Chain> chains = new ConcurrentHashMap<>();

    public AuditLog(AuditStore store) {
        this(store, Clock.systemUTC());
    }

    AuditLog(AuditStore store, Clock clock) {
        this.store = store;
        this.clock = clock;
    }

    private record Pending(AuditEvent event, CompletableFuture<AuditEntry> done) {
    }

    private static final class Chain {
        final ReentrantLock lock = new ReentrantLock();
        final ConcurrentLinkedQueue<Pending> queue = new ConcurrentLinkedQueue<>();
        long seq = -1;          // -1: not loaded
        String hash;
    }

    /** Appends one event; returns the sealed entry once it is durable. */
    public AuditEntry append(AuditEvent event) {
        Chain chain = chains.computeIfAbsent(event.tenantId(), t -> new Chain());
        Pending p = new Pending(event, new CompletableFuture<>());
        chain.queue.add(p);
        while (!p.done().isDone()) {
            chain.lock.lock();
            try {
                if (!p.done().isDone()) {
                    commitQueued(event.tenantId(), chain);
                }
            } finally {
                chain.lock.unlock();
            }
        }
        try {
            return p.done().get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException re) {
                throw re;
            }
            throw new IllegalStateException(e.getCause());
        }
    }

    private void commitQueued(String tenantId, Chain chain) {
        List<Pending> batch = new ArrayList<>();
        Pending next;
        while (batch.size() < MAX_BATCH && (next = chain.queue.poll()) != null) {
            batch.add(next);
        }
        if (batch.isEmpty()) {
            return;
        }
        for (int attempt = 0; ; attempt++) {
            try {
                if (chain.seq < 0) {
                    AuditEntry head = store.head(tenantId).orElse(null);
                    chain.seq = head == null ? 0 : head.seq();
                    chain.hash = head == null ? AuditEntry.GENESIS : head.hash();
                }
                long now = clock.millis();
                List<AuditEntry> sealed = new ArrayList<>(batch.size());
                long seq = chain.seq;
                String prev = chain.hash;
                for (Pending p : batch) {
                    AuditEntry e = AuditEntry.seal(p.event(), ++seq, now, prev);
                    sealed.add(e);
                    prev = e.hash();
                }
                store.insert(sealed);
                chain.seq = seq;
                chain.hash = prev;
                for (int i = 0; i < batch.size(); i++) {
                    batch.get(i).done().complete(sealed.get(i));
                }
                return;
            } catch (AuditStore.SeqConflict conflict) {
                chain.seq = -1;
                if (attempt >= MAX_CONFLICT_RETRIES) {
                    batch.forEach(p -> p.done().completeExceptionally(conflict));
                    return;
                }
            } catch (RuntimeException e) {
                chain.seq = -1;
                batch.forEach(p -> p.done().completeExceptionally(e));
                return;
            }
        }
    }
}
