package dev.deputy.broker.audit;

import dev.deputy.broker.tracing.Traces;
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
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * Appends events to the tenant's hash chain and returns once they are durable.
 *
 * <p>Group commit: appenders queue their events and wait; one platform thread, the audit writer, seals
 * everything a tenant has queued into one batch and writes it in one transaction. The chain stays single and
 * gap-free per tenant without one broker-wide lock, and a busy tenant pays one commit per batch, not per
 * event. The writer is a platform thread on purpose: request handlers run on virtual threads, and a committer
 * among them waits behind every runnable request for its turn on a carrier, which shrinks batches to one or
 * two entries when the broker is CPU-bound.
 * (Measured: 836 → 1,114 token requests/s with private_key_jwt on the embedded default; a commit window on
 * top of it did not help.) Another node writing the same tenant shows up as a sequence
 * conflict: the head is re-read and the batch re-sealed.
 *
 * <p>{@link #appendInTransaction} seals entries inside a caller's transaction (a state change and its audit
 * entry commit together); the in-memory head advances only after that transaction commits.
 */
@Singleton
public class AuditLog {
    private static final int MAX_BATCH = 512;
    private static final int MAX_CONFLICT_RETRIES = 50;
    /** The writer thread exits after this long without work (and starts again on the next append). */
    private static final long WRITER_IDLE_SECONDS = 30;

    private final AuditStore store;
    private final AuditWitness witness;
    private final Clock clock;
    private final Map<String, Chain> chains = new ConcurrentHashMap<>();
    private final List<Consumer<AuditEntry>> listeners = new CopyOnWriteArrayList<>();
    private final List<Consumer<List<AuditEntry>>> entryListeners = new CopyOnWriteArrayList<>();
    /** Chains with queued events, in the order they asked; each chain is in here at most once. */
    private final LinkedBlockingQueue<Chain> ready = new LinkedBlockingQueue<>();
    private volatile Thread writer; // started and cleared under this object's monitor
    /** Set once at wiring ({@link #traces(Traces)}); off for logs built by hand. */
    private volatile Traces traces = Traces.OFF;
    private volatile Observer observer = Observer.NONE;

    public AuditLog(AuditStore store) {
        this(store, AuditWitness.none(), Clock.systemUTC());
    }

    /**
     * Before anything can append, compares every witnessed chain with the database (see {@link AuditWitness}): a
     * chain that is behind its witness or diverges from it is refused (ERROR log; appends answer 503).
     */
    @jakarta.inject.Inject
    public AuditLog(AuditStore store, AuditWitness witness) {
        this(store, witness, Clock.systemUTC());
        witness.onRefused(this::refused);
        compareWithWitness();
    }

    AuditLog(AuditStore store, Clock clock) {
        this(store, AuditWitness.none(), clock);
    }

    AuditLog(AuditStore store, AuditWitness witness, Clock clock) {
        this.store = store;
        this.witness = witness;
        this.clock = clock;
    }

    /** The start-up comparison; returns the comparisons made (one per witnessed tenant). */
    public List<AuditWitness.Comparison> compareWithWitness() {
        List<AuditWitness.Comparison> out = new ArrayList<>();
        for (String t : witness.witnessedTenants()) {
            AuditWitness.Comparison c = witness.compare(t, store);
            out.add(c);
            if (c.refused()) {
                continue; // logged and recorded by refused(), once
            } else if ("extended".equals(c.kind())) {
                org.slf4j.LoggerFactory.getLogger(AuditLog.class).info("audit witness: tenant {}: {}", t, c.message());
            }
        }
        return out;
    }

    /** A chain was refused (at start or later): the ERROR line and the entry in the broker's own chain. */
    private void refused(AuditWitness.Comparison c) {
        org.slf4j.LoggerFactory.getLogger(AuditLog.class).error("AUDIT CHAIN REFUSED: tenant {}: {} ({}); its"
                + " audit appends answer 503 and it is not signed again until an operator restores the database"
                + " or sets the witness file aside (docs/audit.md, Witnessed heads)", c.tenantId(), c.kind(), c.message());
        String chain = dev.deputy.broker.tenant.Tenants.BROKER_CHAIN;
        if (chain.equals(c.tenantId()) || witness.refusal(chain).isPresent()) {
            return; // the broker's own chain is the refused one: the log line is all there is
        }
        try {
            append(AuditEvent.of(chain, EventTypes.AUDIT_CHAIN_REFUSED, AuditEvent.Outcome.FAILURE)
                    .detail("tenant", c.tenantId()).detail("kind", c.kind())
                    .detail("witnessed_seq", c.witnessedSeq()).detail("witnessed_hash", c.witnessedHash())
                    .detail("db_head_seq", c.dbHeadSeq()).build());
        } catch (RuntimeException e) {
            org.slf4j.LoggerFactory.getLogger(AuditLog.class).error("audit.chain_refused for tenant {} could not be written: {}",
                    c.tenantId(), e.toString());
        }
    }

    public AuditWitness witness() {
        return witness;
    }

    /** One queued event: its place in its append's group. */
    private record Pending(AuditEvent event, Group group, int index) {
        void complete(AuditEntry sealed) {
            group.sealed(index, sealed);
        }

        void fail(Throwable t) {
            group.fail(t);
        }
    }

    /**
     * The events of one append call: completed once, when the last of them is durable (or the first fails), so an
     * appender waits for (or is called back by) one future whatever the number of its events.
     */
    private static final class Group extends CompletableFuture<List<AuditEntry>> {
        final AuditEntry[] sealed;
        final java.util.concurrent.atomic.AtomicInteger left;

        Group(int n) {
            sealed = new AuditEntry[n];
            left = new java.util.concurrent.atomic.AtomicInteger(n);
        }

        void sealed(int index, AuditEntry e) {
            sealed[index] = e; // published by the decrement below
            if (left.decrementAndGet() == 0) {
                complete(List.of(sealed));
            }
        }

        void fail(Throwable t) {
            completeExceptionally(t instanceof RuntimeException re ? re : new IllegalStateException(t));
        }
    }

    private static final class Chain {
        final String tenantId;
        final ReentrantLock lock = new ReentrantLock();
        final ConcurrentLinkedQueue<Pending> queue = new ConcurrentLinkedQueue<>();
        /** True while the chain is in {@code ready} or about to be: appenders then need not signal the writer. */
        final AtomicBoolean scheduled = new AtomicBoolean();
        long seq = -1;          // -1: not loaded
        String hash;
        boolean inTx;

        Chain(String tenantId) {
            this.tenantId = tenantId;
        }
    }

    private Chain chain(String tenantId) {
        return chains.computeIfAbsent(tenantId, Chain::new);
    }

    /**
     * Called with the last entry of every committed batch (on the committing thread: keep it quick, never
     * append from it).
     */
    public void addListener(Consumer<AuditEntry> listener) {
        listeners.add(listener);
    }

    /**
     * Called with every entry this node committed, batch by batch in chain order (on the committing thread: keep it
     * quick — hand the entries to a queue — and never append from it). Each entry is seen by exactly one node: the one
     * that wrote it.
     */
    public void addEntriesListener(Consumer<List<AuditEntry>> listener) {
        entryListeners.add(listener);
    }

    private void committed(List<AuditEntry> sealed) {
        List<AuditEntry> view = java.util.Collections.unmodifiableList(sealed);
        for (Consumer<List<AuditEntry>> l : entryListeners) {
            try {
                l.accept(view);
            } catch (RuntimeException ignored) {
                // a listener's failure must not fail an acknowledged append
            }
        }
        committed(sealed.get(sealed.size() - 1));
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

    /**
     * What the metrics see of the log (the Micrometer side lives in {@code metrics}). Called on the appending or the
     * writer thread: keep it quick and never append from it.
     */
    public interface Observer {
        /** An appender waited {@code nanos} for its events to become durable (queue wait and commit). */
        void appended(String tenantId, int events, long nanos);

        /** The writer committed a batch of {@code entries} in {@code nanos}. */
        void batchCommitted(String tenantId, int entries, long nanos);

        /** A batch (or an in-transaction append) failed: {@code entries} events were not written. */
        void failed(String tenantId, int entries);

        Observer NONE = new Observer() {
            @Override
            public void appended(String tenantId, int events, long nanos) {
            }

            @Override
            public void batchCommitted(String tenantId, int entries, long nanos) {
            }

            @Override
            public void failed(String tenantId, int entries) {
            }
        };
    }

    /** Sets the one observer (the metrics). */
    public void observe(Observer o) {
        this.observer = o == null ? Observer.NONE : o;
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
        witness.checkAppendable(tenantId);
        Chain chain = chain(tenantId);
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
                    AuditEntry e = AuditSeal.seal(event, seq, now, prev);
                    sealed.add(e);
                    return e;
                });
                if (!sealed.isEmpty()) {
                    AuditEntry last = sealed.get(sealed.size() - 1);
                    chain.seq = last.seq();
                    chain.hash = last.hash();
                    committed(sealed);
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
            AuditEntry.Head head = headOf(store.head(tenantId).orElse(null));
            chain.seq = head.seq();
            chain.hash = head.hash();
        }
    }

    /** A chain position from its last entry: seq 0 and the genesis hash for an empty chain. */
    private static AuditEntry.Head headOf(AuditEntry last) {
        return last == null ? new AuditEntry.Head(0, AuditEntry.GENESIS) : new AuditEntry.Head(last.seq(), last.hash());
    }

    /**
     * Runs {@code write} while no entry of the tenant is being sealed here and every journaled entry is in the
     * database, then forgets the head so that the next entry follows what {@code write} added: for writers beside the
     * log (a test planting a trail with chosen times, an import). Another node's writer is not held off.
     */
    public void beside(String tenantId, Runnable write) {
        Chain chain = chain(tenantId);
        chain.lock.lock();
        try {
            store.settle();
            write.run();
            chain.seq = -1;
        } finally {
            chain.lock.unlock();
        }
    }

    /**
     * The durable head as this node knows it (seq 0 and the genesis hash for an empty chain): the last entry the
     * store can be read at, everything journaled before this call included.
     *
     * <p>The store is read without holding the chain. Reading it under the chain held the writer, and so every
     * appender and every request waiting for its entry to be durable, for as long as the store took: on the
     * embedded default that read first indexes what was journaled meanwhile, waiting for the indexer's round
     * (hundreds of entries at load), and the periodic checkpoint reads the head every 2 seconds — a 100–400 ms stall
     * of all audited requests every 2 seconds, the AuthZEN bench's p99. The chain is held only to adopt a newer head
     * (another node appended) or a head this node did not know.
     */
    public AuditEntry.Head head(String tenantId) {
        Chain chain = chain(tenantId);
        AuditEntry.Head stored = headOf(store.head(tenantId).orElse(null)); // settles the journal first
        chain.lock.lock();
        try {
            // an entry this node appended since the read is ahead of it and stays the chain's head; a stored head
            // ahead of the chain (another node) or an unknown chain is adopted
            if (chain.seq < 0 || stored.seq() >= chain.seq) {
                chain.seq = stored.seq();
                chain.hash = stored.hash();
            }
            return stored;
        } finally {
            chain.lock.unlock();
        }
    }

    /** Wiring: spans around appends ("deputy.audit.append") when tracing is on. */
    @jakarta.inject.Inject
    void traces(Traces traces) {
        this.traces = traces;
    }

    /** Appends one event; returns the sealed entry once it is durable. */
    public AuditEntry append(AuditEvent event) {
        return appendAll(List.of(event)).get(0);
    }

    /**
     * Appends events of one tenant, in this order, and returns their sealed entries once all of them are durable:
     * one wait for the lot (they normally share a batch), instead of one commit after the other.
     */
    public List<AuditEntry> appendAll(List<AuditEvent> events) {
        if (events.isEmpty()) {
            return List.of();
        }
        Traces.Step step = traces.step("deputy.audit.append");
        try {
            step.attr("deputy.tenant", events.get(0).tenantId()).attr("deputy.audit.events", events.size())
                    .attr("deputy.audit.type", events.get(0).type());
            long t0 = System.nanoTime();
            List<AuditEntry> sealed = await(enqueue(events));
            observer.appended(events.get(0).tenantId(), sealed.size(), System.nanoTime() - t0);
            return sealed;
        } catch (RuntimeException | Error e) {
            step.failed(e);
            throw e;
        } finally {
            step.close();
        }
    }

    private static List<AuditEntry> await(Group group) {
        try {
            return group.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException re) {
                throw re;
            }
            if (e.getCause() instanceof Error err) {
                throw err;
            }
            throw new IllegalStateException(e.getCause());
        }
    }

    /**
     * {@link #appendAll} without blocking the caller: the events are queued here (in this order, on the caller's
     * thread, so that what one request appends after another is sealed after it) and the future completes — on the
     * audit writer's thread: hand further work to another executor — with their sealed entries once all of them
     * are durable, or exceptionally when they could not be written. What is refused before queueing (a refused
     * chain, a misuse) is thrown here.
     */
    public CompletableFuture<List<AuditEntry>> appendAllAsync(List<AuditEvent> events) {
        if (events.isEmpty()) {
            return CompletableFuture.completedFuture(List.of());
        }
        Traces.Step step = traces.detached("deputy.audit.append");
        try {
            step.attr("deputy.tenant", events.get(0).tenantId()).attr("deputy.audit.events", events.size())
                    .attr("deputy.audit.type", events.get(0).type());
            Group group = enqueue(events);
            long t0 = System.nanoTime();
            String tenantId = events.get(0).tenantId();
            group.whenComplete((sealed, failure) -> {
                if (failure != null) {
                    step.failed(failure instanceof java.util.concurrent.CompletionException ce && ce.getCause() != null
                            ? ce.getCause() : failure);
                } else {
                    observer.appended(tenantId, sealed.size(), System.nanoTime() - t0);
                }
                step.close();
            });
            return group;
        } catch (RuntimeException | Error e) {
            step.failed(e);
            step.close();
            throw e;
        }
    }

    private Group enqueue(List<AuditEvent> events) {
        String tenantId = events.get(0).tenantId();
        witness.checkAppendable(tenantId);
        Chain chain = chain(tenantId);
        if (chain.lock.isHeldByCurrentThread() && chain.inTx) {
            throw new IllegalStateException("append inside appendInTransaction: seal through the TxSealer instead");
        }
        if (Thread.currentThread() == writer) {
            throw new IllegalStateException("append from an audit listener");
        }
        Group group = new Group(events.size());
        List<Pending> pending = new ArrayList<>(events.size());
        for (AuditEvent event : events) {
            if (!event.tenantId().equals(tenantId)) {
                throw new IllegalArgumentException("events of tenants " + tenantId + " and " + event.tenantId());
            }
            pending.add(new Pending(event, group, pending.size()));
        }
        chain.queue.addAll(pending);
        if (chain.scheduled.compareAndSet(false, true)) {
            ready.add(chain);
            ensureWriter();
        }
        return group;
    }

    private synchronized void ensureWriter() {
        if (writer == null) {
            writer = Thread.ofPlatform().daemon().name("deputy-audit-writer").start(this::writeLoop);
        }
    }

    /** The writer: takes the next chain with queued events and commits them, batch by batch. */
    private void writeLoop() {
        while (true) {
            Chain chain;
            try {
                chain = ready.poll(WRITER_IDLE_SECONDS, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                chain = null;
            }
            if (chain == null) {
                synchronized (this) {
                    if (ready.isEmpty()) {
                        writer = null;
                        return;
                    }
                }
                continue;
            }
            // cleared before draining: an event queued from here on schedules the chain again
            chain.scheduled.set(false);
            chain.lock.lock();
            try {
                while (!chain.queue.isEmpty()) {
                    commitQueued(chain);
                }
            } catch (Throwable t) {
                // never let the writer die with appenders waiting: fail what is queued, keep going
                observer.failed(chain.tenantId, chain.queue.size());
                Pending p;
                while ((p = chain.queue.poll()) != null) {
                    p.fail(t);
                }
            } finally {
                chain.lock.unlock();
            }
        }
    }

    private void commitQueued(Chain chain) {
        String tenantId = chain.tenantId;
        List<Pending> batch = new ArrayList<>();
        Pending next;
        while (batch.size() < MAX_BATCH && (next = chain.queue.poll()) != null) {
            batch.add(next);
        }
        if (batch.isEmpty()) {
            return;
        }
        long t0 = System.nanoTime();
        for (int attempt = 0; ; attempt++) {
            try {
                loadHead(tenantId, chain);
                long now = clock.millis();
                List<AuditEntry> sealed = new ArrayList<>(batch.size());
                long seq = chain.seq;
                String prev = chain.hash;
                for (Pending p : batch) {
                    AuditEntry e = AuditSeal.seal(p.event(), ++seq, now, prev);
                    sealed.add(e);
                    prev = e.hash();
                }
                store.insert(sealed);
                chain.seq = seq;
                chain.hash = prev;
                for (int i = 0; i < batch.size(); i++) {
                    batch.get(i).complete(sealed.get(i));
                }
                observer.batchCommitted(tenantId, batch.size(), System.nanoTime() - t0);
                committed(sealed);
                return;
            } catch (AuditStore.SeqConflict conflict) {
                chain.seq = -1;
                if (attempt >= MAX_CONFLICT_RETRIES) {
                    observer.failed(tenantId, batch.size());
                    batch.forEach(p -> p.fail(conflict));
                    return;
                }
            } catch (RuntimeException e) {
                chain.seq = -1;
                observer.failed(tenantId, batch.size());
                batch.forEach(p -> p.fail(e));
                return;
            }
        }
    }
}
