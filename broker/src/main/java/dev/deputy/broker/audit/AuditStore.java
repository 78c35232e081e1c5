package dev.deputy.broker.audit;

import java.util.List;
import java.util.Optional;

/** Durable, append-only storage of the chain, its checkpoints and archive markers (port; implemented in storage). */
public interface AuditStore {
    /** The last entry of the tenant's chain. */
    Optional<AuditEntry> head(String tenantId);

    /**
     * Inserts entries that continue the chain (and their agent index rows) in one transaction. Throws
     * {@link SeqConflict} when another writer (another node) took one of the sequence numbers first; nothing
     * is written then.
     */
    void insert(List<AuditEntry> entries);

    /** Entries with seq ≥ fromSeq in order, at most limit. */
    List<AuditEntry> range(String tenantId, long fromSeq, int limit);

    /** Streams entries fromSeq ≤ seq ≤ toSeq in order (keyset pages); stops when the visitor returns false. */
    void scan(String tenantId, long fromSeq, long toSeq, EntryVisitor visitor);

    /** The lowest seq still in the table (entries before it were archived), or empty when the chain is empty. */
    Optional<Long> firstSeq(String tenantId);

    /** The lowest seq of an entry with at_ms ≥ atMs. */
    Optional<Long> firstSeqAtOrAfter(String tenantId, long atMs);

    /** Any entry whose hash is this one (used only to explain a broken chain). */
    Optional<AuditEntry> findByHash(String tenantId, String hash);

    /**
     * The entries about {@code subject} (an upstream {@code sub}), newest first, with seq below {@code beforeSeq}
     * (keyset pagination; {@code Long.MAX_VALUE} for the newest), at most {@code limit}. Storage answers it from the
     * (tenant, subject, seq) index; this default walks the query API and is for test stores.
     */
    default List<AuditEntry> bySubjectNewestFirst(String tenantId, String subject, long beforeSeq, int limit) {
        java.util.ArrayDeque<AuditEntry> last = new java.util.ArrayDeque<>();
        AuditQuery q = new AuditQuery(tenantId, null, null, subject, null, null, null, null, null, null, null, 0,
                AuditQuery.MAX_LIMIT);
        while (true) {
            List<AuditEntry> page = query(q);
            for (AuditEntry e : page) {
                if (e.seq() < beforeSeq) {
                    last.addFirst(e);
                    if (last.size() > limit) {
                        last.removeLast();
                    }
                }
            }
            if (page.size() < AuditQuery.MAX_LIMIT) {
                return List.copyOf(last);
            }
            q = q.after(page.get(page.size() - 1).seq());
        }
    }

    List<AuditEntry> query(AuditQuery q);

    /** How many entries of {@code type} fall in the hour (UTC, epoch-aligned) that starts at {@code hourStartMs}. */
    record HourCount(long hourStartMs, String type, long count) {
    }

    long HOUR_MS = 3_600_000L;

    /**
     * Entries of these exact types with {@code fromMs ≤ at_ms < toMs}, counted per hour and type (hours without
     * entries are absent). Storage answers it with one aggregate query over the (tenant_id, event_type, at_ms)
     * index; this default walks the query API and is for test stores.
     */
    default List<HourCount> countByHour(String tenantId, List<String> types, long fromMs, long toMs) {
        return countByHour(tenantId, types, fromMs, toMs, 0, Long.MAX_VALUE);
    }

    /**
     * {@link #countByHour(String, List, long, long)} over the entries with {@code afterSeq < seq ≤ upToSeq} only: the
     * entries appended since an earlier count up to {@code afterSeq} (the overview keeps its counts and adds these).
     * Storage answers it with one aggregate over whichever index gives the smaller range (a short tail of the chain:
     * the primary key); this default walks the query API and is for test stores.
     */
    default List<HourCount> countByHour(String tenantId, List<String> types, long fromMs, long toMs, long afterSeq,
                                        long upToSeq) {
        java.util.Map<Long, java.util.Map<String, Long>> counts = new java.util.TreeMap<>();
        AuditQuery q = new AuditQuery(tenantId, fromMs, toMs, null, null, null, null, types, null, null, null, afterSeq,
                AuditQuery.MAX_LIMIT);
        boolean past = false;
        while (!past) {
            List<AuditEntry> page = query(q);
            for (AuditEntry e : page) {
                if (e.seq() > upToSeq) {
                    past = true;
                    break;
                }
                counts.computeIfAbsent(e.atMs() - Math.floorMod(e.atMs(), HOUR_MS), h -> new java.util.TreeMap<>())
                        .merge(e.type(), 1L, Long::sum);
            }
            if (page.size() < AuditQuery.MAX_LIMIT) {
                break;
            }
            q = q.after(page.get(page.size() - 1).seq());
        }
        List<HourCount> out = new java.util.ArrayList<>();
        counts.forEach((h, byType) -> byType.forEach((t, n) -> out.add(new HourCount(h, t, n))));
        return out;
    }

    /**
     * The newest entries of one exact type, newest first, at most {@code limit}. Storage answers it from the
     * (tenant_id, event_type, seq) index read backwards; this default walks the query API and is for test stores.
     */
    default List<AuditEntry> newestOfType(String tenantId, String type, int limit) {
        java.util.ArrayDeque<AuditEntry> last = new java.util.ArrayDeque<>();
        AuditQuery q = new AuditQuery(tenantId, null, null, null, null, null, null, List.of(type), null, null, null, 0,
                AuditQuery.MAX_LIMIT);
        while (true) {
            List<AuditEntry> page = query(q);
            for (AuditEntry e : page) {
                last.addFirst(e);
                if (last.size() > limit) {
                    last.removeLast();
                }
            }
            if (page.size() < AuditQuery.MAX_LIMIT) {
                return List.copyOf(last);
            }
            q = q.after(page.get(page.size() - 1).seq());
        }
    }

    /**
     * The entries {@link #query} would find, newest first: the same filters, {@code q.afterSeq() < seq < beforeSeq}
     * ({@code Long.MAX_VALUE}: up to the head), in descending seq, at most {@code q.limit()} — keyset pages backwards
     * (the console's audit search). Storage answers it with one query over the same indexes read backwards; this
     * default walks the query API and is for test stores.
     */
    default List<AuditEntry> queryNewestFirst(AuditQuery q, long beforeSeq) {
        java.util.ArrayDeque<AuditEntry> last = new java.util.ArrayDeque<>();
        AuditQuery page = new AuditQuery(q.tenantId(), q.fromMs(), q.toMs(), q.subject(), q.agent(), q.client(),
                q.resource(), q.types(), q.outcome(), q.correlationId(), q.requestId(), q.afterSeq(), AuditQuery.MAX_LIMIT);
        while (true) {
            List<AuditEntry> found = query(page);
            for (AuditEntry e : found) {
                if (e.seq() < beforeSeq) {
                    last.addFirst(e);
                    if (last.size() > q.limit()) {
                        last.removeLast();
                    }
                }
            }
            if (found.size() < AuditQuery.MAX_LIMIT || found.get(found.size() - 1).seq() >= beforeSeq) {
                return List.copyOf(last);
            }
            page = page.after(found.get(found.size() - 1).seq());
        }
    }

    /**
     * Makes every entry acknowledged so far visible to reads of the database itself (SQL outside this interface,
     * e.g. tests and tools). The store's own reads do this already; a store that writes straight through has
     * nothing to do.
     */
    default void settle() {
    }

    // checkpoints
    /** Stores a checkpoint; false when one exists at that seq already (another node made it). */
    boolean insertCheckpoint(AuditCheckpoint c);

    /** Checkpoints with fromSeq ≤ seq ≤ toSeq in order. */
    List<AuditCheckpoint> checkpoints(String tenantId, long fromSeq, long toSeq, int limit);

    Optional<AuditCheckpoint> latestCheckpoint(String tenantId);

    /** The first checkpoint at or after seq. */
    Optional<AuditCheckpoint> checkpointAtOrAfter(String tenantId, long seq);

    // retention
    /** Records the marker and deletes entries marker.fromSeq..marker.toSeq in one transaction. */
    void archive(AuditArchive marker);

    List<AuditArchive> archives(String tenantId);

    @FunctionalInterface
    interface EntryVisitor {
        boolean visit(AuditEntry e);
    }

    class SeqConflict extends RuntimeException {
        public SeqConflict(Throwable cause) {
            super("audit sequence taken by another writer", cause);
        }
    }
}
