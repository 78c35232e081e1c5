package dev.deputy.broker.storage;

import dev.deputy.broker.audit.AuditEntry;
import dev.deputy.broker.audit.AuditSeal;
import dev.deputy.broker.audit.AuditEvent;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The audit journal on its own: what an abandoned (killed) journal holds is replayed at the next start, a torn
 * record at the end is dropped while every record before it survives, segments go once indexed, and a failing
 * database leaves the entries journaled for a later pass.
 */
class AuditJournalTest {
    /** Never indexes on its own: no index pass before 10 minutes or 1,000,000 entries. */
    static final AuditJournal.Limits LAZY = new AuditJournal.Limits(1 << 20, 1_000_000, 600_000, 2_000_000, 10_000);

    @TempDir
    Path dir;

    static List<AuditEntry> batch(String tenant, long from, int n) {
        List<AuditEntry> out = new ArrayList<>();
        String prev = AuditEntry.GENESIS;
        for (int i = 0; i < n; i++) {
            AuditEntry e = AuditSeal.seal(AuditEvent.of(tenant, "test.journal", AuditEvent.Outcome.SUCCESS)
                    .subject("alice ü " + (from + i), "https://idp.example").agent("bot-" + i).detail("n", from + i).build(), from + i, 1_700_000_000_000L + i, prev);
            out.add(e);
            prev = e.hash();
        }
        return out;
    }

    /** A database stand-in that records what it was given. */
    static final class Recorder implements AuditJournal.Sink {
        final List<AuditEntry> got = Collections.synchronizedList(new ArrayList<>());
        /** Each round's {@code mayBePresent}, failed rounds included. */
        final List<Boolean> checked = Collections.synchronizedList(new ArrayList<>());
        volatile boolean fail;

        @Override
        public void insert(List<AuditEntry> entries, boolean mayBePresent) {
            checked.add(mayBePresent);
            if (fail) {
                throw new IllegalStateException("database away");
            }
            got.addAll(entries);
        }
    }

    @Test
    void anAbandonedJournalIsReplayedAtTheNextStartAndItsSegmentsRemoved() throws IOException {
        Recorder first = new Recorder();
        AuditJournal j = AuditJournal.recover(dir, false, first, LAZY);
        List<AuditEntry> written = new ArrayList<>(batch("acme", 1, 3));
        written.addAll(batch("other", 1, 2));
        j.append(written.subList(0, 3));
        j.append(written.subList(3, 5));
        assertEquals(List.of(), first.got, "nothing indexed yet");
        assertEquals(5, j.pendingEntries());
        // no close(): the process is killed here

        Recorder second = new Recorder();
        AuditJournal again = AuditJournal.recover(dir, false, second, LAZY);
        assertEquals(written, second.got, "every journaled entry, field for field, in order");
        assertEquals(List.of(true), second.checked, "a replay may find entries already in the database");
        assertEquals(1, segments().size(), "the replayed segment is gone, a fresh one is open");
        again.close();
        assertEquals(0, segments().size());
    }

    /**
     * The journal encodes every batch into one reused buffer: a small batch after a larger one, and after one past the
     * buffer's keep size (huge details), is replayed field for field (no bytes of the earlier batch leak into it); a
     * record is the bytes {@code encode} makes.
     */
    @Test
    void batchesEncodedIntoTheReusedBufferReplayExactly() throws IOException {
        Recorder first = new Recorder();
        AuditJournal j = AuditJournal.recover(dir, false, first, LAZY);
        List<AuditEntry> written = new ArrayList<>(batch("acme", 1, 40));
        AuditEntry huge = AuditSeal.seal(AuditEvent.of("acme", "test.journal", AuditEvent.Outcome.SUCCESS)
                .detail("big", "é日🔐".repeat(150_000)).build(), 41, 1_700_000_000_041L, written.get(39).hash());
        written.add(huge);
        written.addAll(batch("acme", 42, 1));
        written.addAll(batch("other", 1, 2));
        j.append(written.subList(0, 40));
        j.append(written.subList(40, 41));
        j.append(written.subList(41, 42));
        j.append(written.subList(42, 44));
        assertEquals(44, j.pendingEntries());

        Recorder second = new Recorder();
        AuditJournal again = AuditJournal.recover(dir, false, second, LAZY);
        assertEquals(written, second.got, "every journaled entry, field for field, in order");
        again.close();
        AuditJournal.RecordBytes reused = new AuditJournal.RecordBytes();
        AuditJournal.encodeInto(reused, written.subList(0, 40));
        AuditJournal.encodeInto(reused, written.subList(42, 44));
        assertTrue(java.util.Arrays.equals(AuditJournal.encode(written.subList(42, 44)),
                java.util.Arrays.copyOf(reused.array(), reused.size())), "a reused buffer holds exactly the record");
    }

    @Test
    void aTornLastRecordIsDroppedAndTheRecordsBeforeItSurvive() throws IOException {
        AuditJournal j = AuditJournal.recover(dir, false, new Recorder(), LAZY);
        List<AuditEntry> good = batch("acme", 1, 4);
        j.append(good);
        j.append(batch("acme", 5, 4));
        // the second record cut off halfway through, as a crash mid-write leaves it
        Path seg = segments().get(0);
        long size = Files.size(seg);
        byte[] all = Files.readAllBytes(seg);
        int firstLen = AuditJournal.encode(good).length;
        Files.write(seg, java.util.Arrays.copyOf(all, firstLen + (int) (size - firstLen) / 2));

        Recorder r = new Recorder();
        AuditJournal.recover(dir, false, r, LAZY).close();
        assertEquals(good, r.got);
    }

    @Test
    void aFlippedByteFailsTheChecksumAndStopsTheSegmentThere() throws IOException {
        AuditJournal j = AuditJournal.recover(dir, false, new Recorder(), LAZY);
        List<AuditEntry> good = batch("acme", 1, 2);
        j.append(good);
        j.append(batch("acme", 3, 2));
        Path seg = segments().get(0);
        byte[] all = Files.readAllBytes(seg);
        all[all.length - 10] ^= 0x40;
        Files.write(seg, all);
        Recorder r = new Recorder();
        AuditJournal.recover(dir, false, r, LAZY).close();
        assertEquals(good, r.got);
    }

    @Test
    void settleIndexesEverythingJournaledAndIndexedSegmentsAreDeleted() throws IOException {
        Recorder r = new Recorder();
        // 2 KiB segments: the batches below fill several
        AuditJournal j = AuditJournal.recover(dir, false, r, new AuditJournal.Limits(2048, 1_000_000, 600_000, 2_000_000, 10_000));
        List<AuditEntry> all = new ArrayList<>();
        for (int b = 0; b < 10; b++) {
            List<AuditEntry> x = batch("acme", 1 + 3L * b, 3);
            j.append(x);
            all.addAll(x);
        }
        assertTrue(segments().size() > 2, "rotated: " + segments());
        j.settle();
        assertEquals(all, r.got);
        assertEquals(0, j.pendingEntries());
        assertEquals(1, segments().size(), "only the open segment is left");
        j.close();
    }

    @Test
    void theIndexerReadsBatchesBackFromTheFileAndRefusesOneChangedOnDisk() throws IOException {
        Recorder r = new Recorder();
        AuditJournal j = AuditJournal.recover(dir, false, r, LAZY);
        List<AuditEntry> first = batch("payments.settlement.reconciler", 1, 4);
        j.append(first);
        j.settle(); // read back from the segment, not from memory: equal entries, unicode intact
        assertEquals(first, r.got);
        List<AuditEntry> second = batch("payments.settlement.reconciler", 5, 3);
        j.append(second);
        // someone edits the journal between the append and the indexer's read: the record no longer matches its CRC
        Path seg = segments().get(segments().size() - 1);
        byte[] bytes = Files.readAllBytes(seg);
        bytes[bytes.length - 40] ^= 0x20;
        Files.write(seg, bytes);
        assertThrows(java.io.UncheckedIOException.class, j::settle);
        assertEquals(first, r.got, "nothing of the changed batch reached the database");
        assertEquals(3, j.pendingEntries(), "the batch stays pending (appends back off when too many wait)");
        j.close(); // logs that the entries stay in the journal
    }

    @Test
    void theIndexerCopiesInTheBackgroundWithinItsDelay() throws Exception {
        Recorder r = new Recorder();
        AuditJournal j = AuditJournal.recover(dir, false, r, new AuditJournal.Limits(1 << 20, 100, 20, 1_000, 10_000));
        j.append(batch("acme", 1, 5));
        long deadline = System.currentTimeMillis() + 5_000;
        while (r.got.size() < 5 && System.currentTimeMillis() < deadline) {
            Thread.sleep(5);
        }
        assertEquals(5, r.got.size(), "indexed without a reader asking");
        // and again once the indexer is idle, waiting for work: a small batch wakes it
        Thread.sleep(100);
        j.append(batch("acme", 6, 1));
        deadline = System.currentTimeMillis() + 2_000;
        while (r.got.size() < 6 && System.currentTimeMillis() < deadline) {
            Thread.sleep(5);
        }
        assertEquals(6, r.got.size(), "a batch below the index batch size reaches the database within the delay");
        j.close();
    }

    @Test
    void aFailingDatabaseKeepsEntriesJournaledUntilItIsBack() throws IOException {
        Recorder r = new Recorder();
        AuditJournal j = AuditJournal.recover(dir, false, r, LAZY);
        List<AuditEntry> x = batch("acme", 1, 3);
        j.append(x);
        r.fail = true;
        assertThrows(IllegalStateException.class, j::settle);
        assertEquals(3, j.pendingEntries());
        r.fail = false;
        j.settle();
        assertEquals(x, r.got);
        // a round after a failed one may find its entries there (the failure may have come after the commit); the
        // rounds after a good one are told the entries are new (no read of the table for them)
        j.append(batch("acme", 4, 2));
        j.settle();
        assertEquals(List.of(false, true, false), r.checked);
        j.close();
    }

    @Test
    void replayIntoTheDatabaseSkipsEntriesAlreadyThere() throws IOException {
        // entries the indexer committed just before the kill are in the database and in the journal
        try (StorageBackend b = StorageBackend.h2(dir.resolve("db"))) {
            JooqAuditStore direct = (JooqAuditStore) b.audit();
            List<AuditEntry> x = batch("acme", 1, 6);
            direct.insert(x.subList(0, 4));
            AuditJournal j = AuditJournal.recover(dir.resolve("journal"), false, new Recorder(), LAZY);
            j.append(x);
            // the broker's store over the same journal directory: recovery inserts 5 and 6 only
            JooqAuditStore journaled = new JooqAuditStore(b.database(), dir.resolve("journal"), false, LAZY);
            assertEquals(x, journaled.range("acme", 1, 100));
            assertEquals(Map.of("count", 6L), Map.of("count", b.database().dsl()
                    .fetchOne("select count(*) from audit_log where tenant_id = 'acme'").get(0, Long.class)));
            journaled.close();
        }
    }

    @Test
    void whenTheIndexerCannotKeepUpAppendsWaitAndThenFailWith503() {
        Recorder r = new Recorder();
        r.fail = true; // the database is away: nothing gets indexed
        AuditJournal j = AuditJournal.recover(dir, false, r, new AuditJournal.Limits(1 << 20, 1_000, 5, 10, 300));
        j.append(batch("acme", 1, 10));
        long t0 = System.nanoTime();
        var e = assertThrows(dev.deputy.broker.health.ServiceUnavailableException.class, () -> j.append(batch("acme", 11, 1)));
        assertTrue(System.nanoTime() - t0 >= 250_000_000L, "waited for room first");
        assertEquals("audit journal", e.dependency());
        assertEquals(10, j.pendingEntries(), "the refused batch was not journaled");
        r.fail = false;
        j.settle();
        j.append(batch("acme", 11, 1)); // room again
        j.settle();
        assertEquals(11, r.got.size());
        j.close();
    }

    private List<Path> segments() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.toString().endsWith(AuditJournal.SUFFIX)).sorted().toList();
        }
    }

    @Test
    void aRecordAppendedAfterATornOneIsNotHiddenBecauseAFailedWriteIsCutOff() throws IOException {
        // a write that fails mid-record is truncated away, so later records follow the last good one; simulate
        // the aftermath: garbage after good records in an old segment, then a newer segment with good records
        AuditJournal j = AuditJournal.recover(dir, false, new Recorder(), LAZY);
        List<AuditEntry> a = batch("acme", 1, 2);
        j.append(a);
        Path seg = segments().get(0);
        Files.write(seg, new byte[]{1, 2, 3}, StandardOpenOption.APPEND);
        Path next = dir.resolve(String.format("%012d%s", 99, AuditJournal.SUFFIX));
        List<AuditEntry> b = batch("acme", 3, 2);
        Files.write(next, AuditJournal.encode(b));
        Recorder r = new Recorder();
        AuditJournal.recover(dir, false, r, LAZY).close();
        List<AuditEntry> both = new ArrayList<>(a);
        both.addAll(b);
        assertEquals(both, r.got, "a later segment is still read after a torn one");
    }

    /**
     * A segment written before V90 (record magic "DAJ1", no canonical-form version per entry) left by a killed
     * process is still read at the next start: its entries come back as v1 and still hash as sealed; a current
     * record ("DAJ2") after it in the same segment keeps its version.
     */
    @Test
    void aPreV90SegmentIsReadAsV1Entries() throws IOException {
        String t = "journal-v1";
        List<AuditEntry> old = new ArrayList<>();
        String prev = AuditEntry.GENESIS;
        for (int i = 1; i <= 3; i++) {
            AuditEntry e = AuditSeal.seal(AuditEvent.of(t, "test.journal", AuditEvent.Outcome.SUCCESS)
                    .subject("ü " + i, "https://idp.example").detail("n", i).build(), i, 1_700_000_000_000L + i, prev,
                    AuditEntry.CANON_V1);
            old.add(e);
            prev = e.hash();
        }
        AuditEntry current = AuditSeal.seal(AuditEvent.of(t, "test.journal", AuditEvent.Outcome.SUCCESS).build(), 4,
                1_700_000_000_004L, prev);
        // the pre-V90 record layout: n, then per entry tenant, seq, at, 15 strings — no version
        java.io.ByteArrayOutputStream body = new java.io.ByteArrayOutputStream();
        try (java.io.DataOutputStream out = new java.io.DataOutputStream(body)) {
            out.writeInt(old.size());
            for (AuditEntry e : old) {
                writeStr(out, e.tenantId());
                out.writeLong(e.seq());
                out.writeLong(e.atMs());
                for (String x : new String[]{e.type(), e.outcome(), e.subject(), e.subjectIss(), e.actor(), e.agentId(),
                        e.clientId(), e.resource(), e.scopes(), e.correlationId(), e.requestId(), e.sourceIp(), e.details(),
                        e.prevHash(), e.hash()}) {
                    writeStr(out, x);
                }
            }
        }
        byte[] b = body.toByteArray();
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        crc.update(b);
        java.nio.ByteBuffer rec = java.nio.ByteBuffer.allocate(12 + b.length).putInt(0x44414a31).putInt(b.length)
                .putInt((int) crc.getValue()).put(b);
        Path seg = dir.resolve("segment.journal");
        Files.write(seg, rec.array());
        Files.write(seg, AuditJournal.encode(List.of(current)), StandardOpenOption.APPEND);

        List<AuditEntry> read = new ArrayList<>();
        AuditJournal.readSegment(seg, read);
        assertEquals(4, read.size());
        for (int i = 0; i < 3; i++) {
            assertEquals(AuditEntry.CANON_V1, read.get(i).canon());
            assertEquals(old.get(i), read.get(i));
            assertEquals(read.get(i).hash(), read.get(i).computeHash());
        }
        assertEquals(AuditEntry.CANON_V2, read.get(3).canon());
        assertEquals(current, read.get(3));
    }

    private static void writeStr(java.io.DataOutputStream out, String s) throws IOException {
        if (s == null) {
            out.writeInt(-1);
            return;
        }
        byte[] b = s.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        out.writeInt(b.length);
        out.write(b);
    }
}
