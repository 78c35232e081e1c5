package dev.deputy.broker.storage;

import dev.deputy.broker.support.PrivateFiles;
import dev.deputy.broker.audit.AuditEntry;
import dev.deputy.broker.health.ServiceUnavailableException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.locks.ReentrantLock;
import java.util.stream.Stream;
import java.util.zip.CRC32C;

/**
 * The embedded default's write-ahead journal for the audit trail.
 *
 * <p>An audit batch is durable once its record is in the journal: one {@code write} to an append-only file (and a
 * {@code force} when {@code fsync} is on). A background thread, the indexer, then copies journaled entries into the
 * database in large transactions. On H2 a commit rewrites every B-tree page it touched — the entry table, its six
 * query indexes and the agent index — which cost about 1 ms per commit whatever its size, so committing the two or
 * three entries that arrive per batch under load was half the broker's CPU; the indexer commits hundreds at a time.
 *
 * <p>Readers call {@link #settle()} first: it indexes everything journaled before the call, so a read sees every
 * acknowledged entry. At start-up {@link #recover} copies what a killed process left in the journal into the
 * database (entries already there are skipped) before anything else reads or appends.
 *
 * <p>File format: segment files {@code <dir>/<n>.journal}; a record is {@code magic, length, CRC-32C, payload}
 * with the payload holding the batch's entries. A torn record at the end of a segment (a write cut off by a
 * crash) was never acknowledged and is dropped at recovery. A segment is deleted once all its entries are in the
 * database.
 */
public final class AuditJournal implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(AuditJournal.class);
    private static final int MAGIC_V1 = 0x44414a31; // "DAJ1": records of entries without a canonical-form version (v1)
    private static final int MAGIC = 0x44414a32; // "DAJ2": each entry ends with its canonical-form version
    private static final int HEADER = 12;
    private static final int MAX_RECORD = 64 << 20;
    static final String SUFFIX = ".journal";

    /**
     * Writes entries into the database in one transaction; with {@code mayBePresent}, skipping those already there
     * (recovery, and the round after a failed one, whose commit may have happened); without it, the entries are known
     * not to be there (an extra read of the table per round saved).
     */
    @FunctionalInterface
    public interface Sink {
        void insert(List<AuditEntry> entries, boolean mayBePresent);
    }

    /** Tunables (tests shorten them). */
    public record Limits(long segmentBytes, int indexBatch, long indexDelayMs, int maxPending, long roomWaitMs) {
        /**
         * 16 MiB segments, up to 256 entries per index transaction, at most 10 ms of indexing lag when idle; beyond
         * 100,000 unindexed entries appends wait (back-pressure), and fail with 503 after 10 s. Short rounds keep what
         * a round holds (its entries, H2's uncommitted rows and copied pages) young: rounds of 2,048 entries after a
         * 50-ms wait lasted longer than the young generation's collection interval under load, their objects were
         * promoted, and the old generation filled every 1.5–4 s (a ~120-ms full collection: the AuthZEN bench's
         * p99.9). A commit costs ~1 ms whatever its size, so the shorter rounds cost ~3% of a core at 10,000/s.
         */
        public static final Limits DEFAULT = new Limits(16L << 20, 256, 10, 100_000, 10_000);
    }

    /**
     * A journaled batch waiting for the indexer: where its record is in which segment, not the entries. The indexer
     * reads the record back from the file (the OS's cache: it was written moments ago) just before inserting it. At
     * full load the indexer lags by up to a few hundred milliseconds; batches held in the heap that long, as entry
     * graphs (~30 objects an entry) or as their encoded bytes, were promoted by young collections and filled the old
     * generation (docs/benchmarks.md, session 13).
     */
    private record Batch(long segment, long number, long offset, int length, int size) {
    }

    private final Path dir;
    private final boolean fsync;
    private final Sink sink;
    private final Limits limits;

    /** Serialises writers of the file; held across the write (and force). */
    private final ReentrantLock appendLock = new ReentrantLock();
    private RecordBytes record = new RecordBytes(); // guarded by appendLock: the batch being journaled, encoded
    private FileChannel channel;        // guarded by appendLock
    private long segment;               // guarded by appendLock
    private long segmentBytes;          // guarded by appendLock
    private boolean broken;             // guarded by appendLock: a write failed and could not be undone
    private final ConcurrentSkipListSet<Long> segments = new ConcurrentSkipListSet<>();

    /** Journaled, not yet indexed; guarded by this object's monitor (which also signals the indexer). */
    private final ArrayDeque<Batch> pending = new ArrayDeque<>();
    private int pendingEntries;
    private long appended;              // batches journaled so far
    private long indexed;               // batches indexed so far (all batches numbered below it are in the db)
    private boolean closed;

    /** Held while copying into the database: by the indexer and by settling readers. */
    private final ReentrantLock indexLock = new ReentrantLock();
    /** Whether the last indexing round threw (its entries may be in the database after all); under indexLock. */
    private boolean lastRoundFailed;
    private Thread indexer;
    /** The segment the indexer reads records back from, and its channel; under indexLock. */
    private FileChannel reader;
    private long readerSegment = -1;

    private AuditJournal(Path dir, boolean fsync, Sink sink, Limits limits) {
        this.dir = dir;
        this.fsync = fsync;
        this.sink = sink;
        this.limits = limits;
    }

    /**
     * Opens the journal in {@code dir}: copies what an earlier process left there into the database through
     * {@code sink}, deletes the old segments, and starts a new one.
     */
    public static AuditJournal recover(Path dir, boolean fsync, Sink sink, Limits limits) {
        AuditJournal j = new AuditJournal(dir, fsync, sink, limits);
        try {
            PrivateFiles.directory(dir);
            j.replay();
            j.openSegment(j.segments.isEmpty() ? 1 : j.segments.last() + 1);
            LOG.info("audit: write-ahead journal in {} (fsync per batch {})", dir, fsync ? "on" : "off");
        } catch (IOException e) {
            throw new UncheckedIOException("audit journal " + dir + ": " + e.getMessage(), e);
        }
        return j;
    }

    private void replay() throws IOException {
        List<Path> files;
        try (Stream<Path> s = Files.list(dir)) {
            files = s.filter(p -> p.getFileName().toString().endsWith(SUFFIX)).sorted().toList();
        }
        List<AuditEntry> found = new ArrayList<>();
        for (Path f : files) {
            segments.add(segmentNumber(f));
            readSegment(f, found);
        }
        for (int i = 0; i < found.size(); i += limits.indexBatch()) {
            sink.insert(found.subList(i, Math.min(found.size(), i + limits.indexBatch())), true);
        }
        if (!found.isEmpty()) {
            LOG.info("audit journal: {} entries from {} segment(s) of an earlier run are in the database", found.size(), files.size());
        }
        for (Path f : files) {
            Files.delete(f);
        }
    }

    private static long segmentNumber(Path f) {
        String n = f.getFileName().toString();
        try {
            return Long.parseLong(n.substring(0, n.length() - SUFFIX.length()));
        } catch (NumberFormatException e) {
            throw new IllegalStateException("unexpected file in the audit journal: " + f);
        }
    }

    /** Reads the valid records of a segment; stops at the first torn or corrupt one. */
    static void readSegment(Path f, List<AuditEntry> into) throws IOException {
        byte[] all = Files.readAllBytes(f);
        int at = 0;
        while (all.length - at >= HEADER) {
            String damage = damage(all, at);
            if (damage != null) {
                LOG.warn("audit journal {}: record at byte {} {}; {} bytes after it dropped (never acknowledged)",
                        f.getFileName(), at, damage, all.length - at);
                return;
            }
            into.addAll(decodeRecord(all, at));
            at += HEADER + bodyLength(all, at);
        }
    }

    /**
     * Why the record starting at {@code at} of {@code buf} cannot be used ("is torn or corrupt": a bad header or a
     * body running past the end; "fails its checksum"), or null when it is intact.
     */
    static String damage(byte[] buf, int at) {
        if (buf.length - at < HEADER) {
            return "is torn or corrupt";
        }
        ByteBuffer h = ByteBuffer.wrap(buf, at, HEADER);
        int magic = h.getInt();
        int len = h.getInt();
        int crc = h.getInt();
        if ((magic != MAGIC && magic != MAGIC_V1) || len < 0 || len > buf.length - at - HEADER) {
            return "is torn or corrupt";
        }
        return crc32c(buf, at + HEADER, len) == crc ? null : "fails its checksum";
    }

    private static int bodyLength(byte[] buf, int at) {
        return ByteBuffer.wrap(buf, at + 4, 4).getInt();
    }

    /** The entries of the intact record starting at {@code at} (see {@link #damage}). */
    private static List<AuditEntry> decodeRecord(byte[] buf, int at) throws IOException {
        boolean versioned = ByteBuffer.wrap(buf, at, 4).getInt() == MAGIC;
        return decode(buf, at + HEADER, bodyLength(buf, at), versioned);
    }

    private static int crc32c(byte[] buf, int off, int len) {
        CRC32C c = new CRC32C();
        c.update(buf, off, len);
        return (int) c.getValue();
    }

    private Path segmentFile(long n) {
        return dir.resolve(String.format("%012d%s", n, SUFFIX));
    }

    private void openSegment(long n) throws IOException {
        Path f = segmentFile(n);
        channel = FileChannel.open(f, java.util.Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
                PrivateFiles.fileAttributes()); // 0600: segments hold audit entries before the database does
        segment = n;
        segmentBytes = 0;
        segments.add(n);
        if (fsync) {
            try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
                d.force(true); // the new file's directory entry
            } catch (IOException ignored) {
                // not every file system lets a directory be opened; the data itself is still forced
            }
        }
    }

    /**
     * Journals one batch; returns once it is written (and forced, with fsync). The entries reach the database
     * later, through the indexer or a reader's {@link #settle()}. Throws when the write fails; nothing of the
     * batch is journaled then.
     */
    public void append(List<AuditEntry> entries) {
        if (entries.isEmpty()) {
            return;
        }
        awaitRoom();
        appendLock.lock();
        try {
            // encoded into the journal's one reused buffer (the record is written and forgotten: the indexer reads it
            // back from the file), where a buffer of its own, copied once more to size, was ~4x the record per batch
            RecordBytes rec = encodeInto(record, entries);
            if (broken) {
                throw new ServiceUnavailableException("audit journal",
                        new IllegalStateException("unusable after a failed write that could not be undone"));
            }
            if (segmentBytes >= limits.segmentBytes()) {
                channel.close();
                openSegment(segment + 1);
            }
            long at = segmentBytes;
            try {
                ByteBuffer b = ByteBuffer.wrap(rec.array(), 0, rec.size());
                while (b.hasRemaining()) {
                    channel.write(b);
                }
                if (fsync) {
                    channel.force(false);
                }
            } catch (IOException e) {
                undo(at);
                throw e;
            }
            segmentBytes += rec.size();
            synchronized (this) {
                pending.add(new Batch(segment, appended++, at, rec.size(), entries.size()));
                pendingEntries += entries.size();
                // wake the indexer: the first pending batch starts its delay window; a full batch ends it
                if (pending.size() == 1 || pendingEntries >= limits.indexBatch()) {
                    notifyAll();
                }
            }
        } catch (IOException e) {
            throw new ServiceUnavailableException("audit journal", e); // 503; nothing of the batch is journaled
        } finally {
            if (record.array().length > RecordBytes.KEEP) {
                record = new RecordBytes(); // a batch with huge details: do not hold its buffer
            }
            appendLock.unlock();
        }
        ensureIndexer();
    }

    /** Cuts a partly written record off, so the next record follows the last good one. */
    private void undo(long at) {
        try {
            channel.truncate(at);
            channel.position(at);
        } catch (IOException e) {
            broken = true;
            LOG.error("audit journal: a failed write could not be undone; audit appends fail from now on", e);
        }
    }

    /** Back-pressure: waits while the indexer is too far behind; gives up (503) after {@link Limits#roomWaitMs}. */
    private synchronized void awaitRoom() {
        long deadline = System.currentTimeMillis() + limits.roomWaitMs();
        boolean interrupted = false;
        try {
            while (pendingEntries >= limits.maxPending() && !closed) {
                long left = deadline - System.currentTimeMillis();
                if (left <= 0) {
                    throw new ServiceUnavailableException("audit journal", new IllegalStateException(
                            pendingEntries + " entries are waiting to be indexed into the database"));
                }
                try {
                    wait(Math.min(left, 100));
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private synchronized void ensureIndexer() {
        if (indexer == null && !closed) {
            indexer = Thread.ofPlatform().daemon().name("deputy-audit-indexer").start(this::indexLoop);
        }
    }

    /** Makes every entry journaled before this call visible in the database. */
    public void settle() {
        long target;
        synchronized (this) {
            target = appended;
            if (indexed >= target) {
                return;
            }
        }
        indexLock.lock();
        try {
            while (indexedCount() < target) {
                indexOnce();
            }
        } finally {
            indexLock.unlock();
        }
    }

    private synchronized long indexedCount() {
        return indexed;
    }

    /** Entries journaled and not yet in the database. */
    public synchronized int pendingEntries() {
        return pendingEntries;
    }

    private void indexLoop() {
        long failures = 0;
        while (true) {
            synchronized (this) {
                try {
                    while (pending.isEmpty() && !closed) {
                        wait(30_000);
                        if (pending.isEmpty() && !closed) {
                            indexer = null; // idle: the next append starts another
                            return;
                        }
                    }
                    // let a batch fill up, for at most the index delay
                    long deadline = System.currentTimeMillis() + limits.indexDelayMs();
                    long left;
                    while (!closed && pendingEntries < limits.indexBatch()
                            && (left = deadline - System.currentTimeMillis()) > 0) {
                        wait(left);
                    }
                } catch (InterruptedException e) {
                    // closing
                }
                if (closed) {
                    indexer = null;
                    return;
                }
            }
            indexLock.lock();
            try {
                indexOnce();
                failures = 0;
            } catch (RuntimeException e) {
                failures++;
                LOG.warn("audit journal: indexing into the database failed ({} in a row), retrying: {}", failures, e.toString());
                sleep(Math.min(5_000, 100 * failures));
            } finally {
                indexLock.unlock();
            }
        }
    }

    /** Copies the oldest pending batches (up to the index batch size) into the database. Holds indexLock. */
    private void indexOnce() {
        List<Batch> take = new ArrayList<>();
        int n = 0;
        synchronized (this) {
            for (Batch b : pending) {
                if (!take.isEmpty() && n + b.size() > limits.indexBatch()) {
                    break;
                }
                take.add(b);
                n += b.size();
            }
        }
        if (take.isEmpty()) {
            return;
        }
        List<AuditEntry> entries = new ArrayList<>(n);
        for (Batch b : take) {
            entries.addAll(readBack(b));
        }
        // only this method writes journaled entries into the database, under indexLock: after a round that returned,
        // the next entries cannot be there; after one that threw, its commit may still have happened
        boolean mayBePresent = lastRoundFailed;
        lastRoundFailed = true;
        sink.insert(entries, mayBePresent);
        lastRoundFailed = false;
        long keep;
        synchronized (this) {
            for (int i = 0; i < take.size(); i++) {
                pending.poll();
            }
            pendingEntries -= n;
            indexed = take.get(take.size() - 1).number() + 1;
            keep = pending.isEmpty() ? Long.MAX_VALUE : pending.peek().segment();
            notifyAll(); // appenders waiting for room
        }
        deleteSegmentsBefore(keep);
    }

    /** Reads a pending batch's record back from its segment and decodes it; holds indexLock. */
    private List<AuditEntry> readBack(Batch b) {
        try {
            if (reader == null || readerSegment != b.segment()) {
                closeReader();
                reader = FileChannel.open(segmentFile(b.segment()), StandardOpenOption.READ);
                readerSegment = b.segment();
            }
            ByteBuffer buf = ByteBuffer.allocate(b.length());
            while (buf.hasRemaining()) {
                if (reader.read(buf, b.offset() + buf.position()) < 0) {
                    throw new IOException("segment " + b.segment() + " ends before the record at byte " + b.offset());
                }
            }
            byte[] all = buf.array();
            String damage = damage(all, 0);
            if (damage != null || HEADER + bodyLength(all, 0) != all.length) {
                throw new IOException("the record at byte " + b.offset() + " of segment " + b.segment()
                        + " changed on disk after it was written (it " + (damage != null ? damage : "has another length") + ")");
            }
            return decodeRecord(all, 0);
        } catch (IOException e) {
            throw new UncheckedIOException("audit journal: a journaled batch cannot be read back for indexing", e);
        }
    }

    private void closeReader() {
        if (reader != null) {
            try {
                reader.close();
            } catch (IOException ignored) {
                // a read-only channel: nothing to lose
            }
            reader = null;
            readerSegment = -1;
        }
    }

    /** Deletes closed segments whose entries are all in the database. */
    private void deleteSegmentsBefore(long keep) {
        if (readerSegment >= 0 && readerSegment < keep) {
            closeReader();
        }
        for (Long s : segments.headSet(keep)) {
            if (s == currentSegment()) {
                continue;
            }
            try {
                Files.deleteIfExists(segmentFile(s));
                segments.remove(s);
            } catch (IOException e) {
                LOG.warn("audit journal: cannot delete indexed segment {}: {}", s, e.toString());
            }
        }
    }

    private long currentSegment() {
        appendLock.lock();
        try {
            return segment;
        } finally {
            appendLock.unlock();
        }
    }

    /** Indexes what is pending, stops the indexer and closes the file; the segments are removed when all is indexed. */
    @Override
    public void close() {
        try {
            settle();
        } catch (RuntimeException e) {
            LOG.warn("audit journal: entries stay in the journal for the next start: {}", e.toString());
        }
        synchronized (this) {
            closed = true;
            notifyAll();
        }
        indexLock.lock();
        try {
            closeReader();
        } finally {
            indexLock.unlock();
        }
        appendLock.lock();
        try {
            if (channel != null && channel.isOpen()) {
                channel.close();
            }
            boolean empty;
            synchronized (this) {
                empty = pending.isEmpty();
            }
            if (empty) {
                for (Long s : segments) {
                    Files.deleteIfExists(segmentFile(s));
                }
                segments.clear();
            }
        } catch (IOException e) {
            LOG.warn("audit journal: close: {}", e.toString());
        } finally {
            appendLock.unlock();
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    // --- record encoding -------------------------------------------------------------------------------------

    static byte[] encode(List<AuditEntry> entries) {
        RecordBytes r = encodeInto(new RecordBytes(), entries);
        return Arrays.copyOf(r.array(), r.size());
    }

    /** A growable record buffer whose array is used in place (no copy to size). */
    static final class RecordBytes extends ByteArrayOutputStream {
        /** Buffers grown past this are not kept for the next batch. */
        static final int KEEP = 1 << 20;
        final DataOutputStream data = new DataOutputStream(this);

        RecordBytes() {
            super(16 * 1024);
        }

        byte[] array() {
            return buf;
        }
    }

    /** Encodes a batch's record (header, CRC32C, entries) into {@code into}, emptied first; returns it. */
    static RecordBytes encodeInto(RecordBytes into, List<AuditEntry> entries) {
        into.reset();
        DataOutputStream out = into.data;
        try {
            out.writeInt(0); // header, filled in below
            out.writeInt(0);
            out.writeInt(0);
            out.writeInt(entries.size());
            for (AuditEntry e : entries) {
                str(out, e.tenantId());
                out.writeLong(e.seq());
                out.writeLong(e.atMs());
                str(out, e.type());
                str(out, e.outcome());
                str(out, e.subject());
                str(out, e.subjectIss());
                str(out, e.actor());
                str(out, e.agentId());
                str(out, e.clientId());
                str(out, e.resource());
                str(out, e.scopes());
                str(out, e.correlationId());
                str(out, e.requestId());
                str(out, e.sourceIp());
                str(out, e.details());
                str(out, e.prevHash());
                str(out, e.hash());
                out.writeShort(e.canon());
            }
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        byte[] record = into.array();
        int len = into.size() - HEADER;
        if (len > MAX_RECORD) {
            throw new IllegalArgumentException("audit batch too large for the journal: " + len + " bytes");
        }
        ByteBuffer.wrap(record, 0, HEADER).putInt(MAGIC).putInt(len).putInt(crc32c(record, HEADER, len));
        return into;
    }

    private static void str(DataOutputStream out, String s) throws IOException {
        if (s == null) {
            out.writeInt(-1);
            return;
        }
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        out.writeInt(b.length);
        out.write(b);
    }

    static List<AuditEntry> decode(byte[] buf, int off, int len) throws IOException {
        return decode(buf, off, len, true);
    }

    static List<AuditEntry> decode(byte[] buf, int off, int len, boolean versioned) throws IOException {
        try (DataInputStream in = new DataInputStream(new java.io.ByteArrayInputStream(buf, off, len))) {
            int n = in.readInt();
            List<AuditEntry> out = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                String tenant = str(in);
                long seq = in.readLong();
                long at = in.readLong();
                String[] s = new String[15];
                for (int k = 0; k < s.length; k++) {
                    s[k] = str(in);
                }
                int canon = versioned ? in.readShort() : AuditEntry.CANON_V1;
                out.add(new AuditEntry(tenant, seq, at, s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7], s[8], s[9],
                        s[10], s[11], s[12], s[13], s[14], canon));
            }
            return out;
        } catch (EOFException e) {
            throw new IOException("audit journal record ends early", e);
        }
    }

    private static String str(DataInputStream in) throws IOException {
        int n = in.readInt();
        if (n < 0) {
            return null;
        }
        return new String(in.readNBytes(n), StandardCharsets.UTF_8);
    }
}
