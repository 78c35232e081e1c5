package dev.deputy.broker.audit;

import jakarta.inject.Singleton;

import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * Appends events to the tenant's hash chain and returns once they are durable.
 *
 * <p>Group commit: concurrent appenders queue their events; whoever holds the tenant's lock seals
 * everything queued so far into one batch and writes it in one transaction. The chain stays single and
 * gap-free per tenant without one broker-wide lock, and a busy tenant pays one commit per batch, not per
 * event. Another node writing the same tenant shows up as a sequence conflict: the head is re-read and
 * the batch re-sealed.
 *
 * <p>{@link #appendInTransaction} seals entries inside a caller's transaction (a state change and its audit
 * entry commit together); the in-memory head advances only after that transaction commits.
 */
@Singleton
public class AuditLog {
    private static final int MAX_BATCH = 512;
    private static final int MAX_CONFLICT_RETRIES = 50;
    /** How long a queued appender waits for a committer before trying to become one. */
    private static final long COMMITTER_POLL_MICROS = 1_000;

    private final AuditStore store;
    private final Clock clock;
    private final Map<String, Chain> chains = new ConcurrentHashMap<>();
    private final List<Consumer<AuditEntry>> listeners = new CopyOnWriteArrayList<>();

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
        boolean inTx;
    }

    /**
     * Called with the last entry of every committed batch (on the committing thread: keep it quick, never
     * append from it).
     */
    public void addListener(Consumer<AuditEntry> listener) {
        listeners.add(listener);
    }

    private void committed(AuditEntry last) {
        for (Consumer<AuditEntry> l : listeners) {
            try {
                l.accept(last);
            } catch (RuntimeException ignored) {
                // a listener's failure must not fail an acknowledged append
            }
        }
    }

    /** Seals events inside a transaction that is not committed yet; see {@link #appendInTransaction}. */
    public interface TxSealer {
        /** Seals the event at the next position; the caller writes the entry in its transaction. */
        AuditEntry seal(AuditEvent event);
    }

    /** The caller's transaction: writes its state change and the sealed entries, commits, and returns. */
    @FunctionalInterface
    public interface TxBody<T> {
        T run(TxSealer sealer);
    }

    /**
     * Runs {@code body} while holding the tenant's chain: entries sealed through the sealer take the next
     * sequence numbers. When the body returns (its transaction committed) the head advances; when it throws
     * (rolled back) the head stays where it was, so the chain stays gap-free. A sequence conflict (another
     * node) re-runs the body against the fresh head, up to the retry limit. The body must write the sealed
     * entries in its own transaction (storage: {@code AuditedTransactions}) and must not call {@link #append}.
     */
    public <T> T appendInTransaction(String tenantId, TxBody<T> body) {
        Chain chain = chains.computeIfAbsent(tenantId, t -> new Chain());
        for (int attempt = 0; ; attempt++) {
            chain.lock.lock();
            List<AuditEntry> sealed = new ArrayList<>();
            try {
                if (chain.inTx) {
                    throw new IllegalStateException("nested audit transaction for tenant " + tenantId);
                }
                chain.inTx = true;
                loadHead(tenantId, chain);
                long now = clock.millis();
                T result = body.run(event -> {
                    if (!event.tenantId().equals(tenantId)) {
                        throw new IllegalArgumentException("event of tenant " + event.tenantId() + " in a transaction of " + tenantId);
                    }
                    long seq = chain.seq + sealed.size() + 1;
                    String prev = sealed.isEmpty() ? chain.hash : sealed.get(sealed.size() - 1).hash();
                    AuditEntry e = AuditEntry.seal(event, seq, now, prev);
                    sealed.add(e);
                    return e;
                });
                if (!sealed.isEmpty()) {
                    AuditEntry last = sealed.get(sealed.size() - 1);
                    chain.seq = last.seq();
                    chain.hash = last.hash();
                    committed(last);
                }
                return result;
            } catch (AuditStore.SeqConflict conflict) {
                chain.seq = -1;
                if (attempt >= MAX_CONFLICT_RETRIES) {
                    throw conflict;
                }
            } catch (RuntimeException | Error e) {
                chain.seq = -1; // rolled back (or unknown): re-read the durable head next time
                throw e;
            } finally {
                chain.inTx = false;
                chain.lock.unlock(); // appenders queued meanwhile take the lock and commit their batch
            }
        }
    }

    private void loadHead(String tenantId, Chain chain) {
        if (chain.seq < 0) {
            AuditEntry head = store.head(tenantId).orElse(null);
            chain.seq = head == null ? 0 : head.seq();
            chain.hash = head == null ? AuditEntry.GENESIS : head.hash();
        }
    }

    /** The durable head as this node knows it (seq 0 and the genesis hash for an empty chain). */
    public AuditEntry.Head head(String tenantId) {
        Chain chain = chains.computeIfAbsent(tenantId, t -> new Chain());
        chain.lock.lock();
        try {
            chain.seq = -1; // another node may have appended
            loadHead(tenantId, chain);
            return new AuditEntry.Head(chain.seq, chain.hash);
        } finally {
            chain.lock.unlock();
        }
    }

    /** Appends one event; returns the sealed entry once it is durable. */
    public AuditEntry append(AuditEvent event) {
        Chain chain = chains.computeIfAbsent(event.tenantId(), t -> new Chain());
        if (chain.lock.isHeldByCurrentThread() && chain.inTx) {
            throw new IllegalStateException("append inside appendInTransaction: seal through the TxSealer instead");
        }
        Pending p = new Pending(event, new CompletableFuture<>());
        chain.queue.add(p);
        while (!p.done().isDone()) {
            // Whoever gets the chain commits everything queued; the others wait on their own future (woken
            // directly by the committer), not on the lock: waking them through the lock one by one would
            // serialise the wake-ups and shrink every batch to one or two entries.
            if (chain.lock.tryLock()) {
                try {
                    if (!p.done().isDone()) {
                        commitQueued(event.tenantId(), chain);
                    }
                } finally {
                    chain.lock.unlock();
                }
            } else {
                try {
                    p.done().get(COMMITTER_POLL_MICROS, TimeUnit.MICROSECONDS);
                } catch (TimeoutException | ExecutionException e) {
                    // not committed yet (the committer is busy with an earlier batch): try to take the chain
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted", e);
                }
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
                loadHead(tenantId, chain);
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
                committed(sealed.get(sealed.size() - 1));
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
