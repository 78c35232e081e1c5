package dev.deputy.broker.storage;

import dev.deputy.broker.audit.AuditEntry;
import dev.deputy.broker.audit.AuditSeal;
import dev.deputy.broker.audit.AuditEvent;
import dev.deputy.broker.audit.AuditLog;
import dev.deputy.broker.audit.AuditStore;
import dev.deputy.broker.audit.AuditVerifier;
import dev.deputy.broker.audit.AuditWitness;
import dev.deputy.broker.audit.AuditCheckpoints;
import dev.deputy.broker.audit.RequestMeta;
import org.jooq.DSLContext;
import org.jooq.Record;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The hash-chained audit log on a real backend: concurrent appends (group commit) give one gap-free
 * chain per tenant that verifies, and tampering done directly in the database — edit, delete, insert,
 * reorder — is reported with its kind and the first bad sequence number.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class AuditChainContract {
    static final String COLUMNS = "at_ms, event_type, outcome, subject, subject_iss, actor, agent_id, client_id, resource, "
            + "scopes, correlation_id, request_id, source_ip, details, prev_hash, hash";

    @TempDir
    static Path tmp;
    StorageBackend backend;
    CountingStore store;
    AuditLog log;
    AuditVerifier verifier;

    abstract StorageBackend open(Path dataDir);

    @BeforeAll
    void openBackend() {
        backend = open(tmp);
        store = new CountingStore(backend.audit());
        log = new AuditLog(store);
        verifier = new AuditVerifier(backend.audit());
    }

    @AfterAll
    void closeBackend() {
        if (backend != null) {
            backend.close();
        }
    }

    /** Counts insert calls, to see that concurrent appends were batched. */
    static final class CountingStore implements AuditStore {
        final AuditStore inner;
        final AtomicInteger inserts = new AtomicInteger();

        CountingStore(AuditStore inner) {
            this.inner = inner;
        }

        @Override
        public Optional<AuditEntry> head(String tenantId) {
            return inner.head(tenantId);
        }

        @Override
        public void settle() {
            inner.settle();
        }

        @Override
        public void insert(List<AuditEntry> entries) {
            inserts.incrementAndGet();
            inner.insert(entries);
        }

        @Override
        public List<AuditEntry> range(String tenantId, long fromSeq, int limit) {
            return inner.range(tenantId, fromSeq, limit);
        }

        @Override
        public Optional<AuditEntry> findByHash(String tenantId, String hash) {
            return inner.findByHash(tenantId, hash);
        }

        @Override
        public void scan(String tenantId, long fromSeq, long toSeq, EntryVisitor visitor) {
            inner.scan(tenantId, fromSeq, toSeq, visitor);
        }

        @Override
        public Optional<Long> firstSeq(String tenantId) {
            return inner.firstSeq(tenantId);
        }

        @Override
        public Optional<Long> firstSeqAtOrAfter(String tenantId, long atMs) {
            return inner.firstSeqAtOrAfter(tenantId, atMs);
        }

        @Override
        public List<AuditEntry> query(dev.deputy.broker.audit.AuditQuery q) {
            return inner.query(q);
        }

        @Override
        public boolean insertCheckpoint(dev.deputy.broker.audit.AuditCheckpoint c) {
            return inner.insertCheckpoint(c);
        }

        @Override
        public List<dev.deputy.broker.audit.AuditCheckpoint> checkpoints(String tenantId, long fromSeq, long toSeq, int limit) {
            return inner.checkpoints(tenantId, fromSeq, toSeq, limit);
        }

        @Override
        public Optional<dev.deputy.broker.audit.AuditCheckpoint> latestCheckpoint(String tenantId) {
            return inner.latestCheckpoint(tenantId);
        }

        @Override
        public Optional<dev.deputy.broker.audit.AuditCheckpoint> checkpointAtOrAfter(String tenantId, long seq) {
            return inner.checkpointAtOrAfter(tenantId, seq);
        }

        @Override
        public void archive(dev.deputy.broker.audit.AuditArchive marker) {
            inner.archive(marker);
        }

        @Override
        public List<dev.deputy.broker.audit.AuditArchive> archives(String tenantId) {
            return inner.archives(tenantId);
        }
    }

    /** SQL straight at the tables (tampering): every acknowledged entry is in them first. */
    DSLContext sql() {
        backend.audit().settle();
        return backend.database().dsl();
    }

    static String tenant() {
        return "audit-" + UUID.randomUUID().toString().substring(0, 8);
    }

    AuditEvent event(String tenant, int n) {
        return AuditEvent.of(tenant, "token.issue", AuditEvent.Outcome.SUCCESS)
                .subject("user-" + n, "https://idp.example/")
                .actors(List.of("agt_01B", "agt_01A"))
                .agent("agt_01B").client("client-" + (n % 3)).resource("https://mcp.example/")
                .scopes("files:read files:write")
                .request(new RequestMeta("corr-" + n, "req-" + n, "127.0.0.1"))
                .detail("n", n).detail("policy", java.util.Map.of("rule", "internal-agents", "granted", List.of("files:read")))
                .build();
    }

    /** A tenant with a verified chain of n entries. */
    String chainOf(int n) {
        String t = tenant();
        for (int i = 1; i <= n; i++) {
            assertEquals(i, log.append(event(t, i)).seq());
        }
        assertTrue(verifier.verify(t).ok());
        return t;
    }

    void assertBroken(String tenant, String problem, long seq) {
        AuditVerifier.Report r = verifier.verify(tenant);
        assertFalse(r.ok(), "tampering not detected");
        assertEquals(problem, r.problem(), r.message());
        assertEquals(seq, r.firstBadSeq(), r.message());
    }

    @Test
    void concurrentAppendsMakeOneGapFreeVerifiedChain() throws Exception {
        String t1 = tenant();
        String t2 = tenant();
        int threads = 32;
        int perThread = 25;
        CountDownLatch go = new CountDownLatch(1);
        ConcurrentLinkedQueue<Long> seqs = new ConcurrentLinkedQueue<>();
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        int insertsBefore = store.inserts.get();
        List<Thread> all = new ArrayList<>();
        for (int i = 0; i < threads; i++) {
            int id = i;
            all.add(Thread.ofVirtual().start(() -> {
                try {
                    go.await();
                    for (int j = 0; j < perThread; j++) {
                        String t = id % 4 == 0 ? t2 : t1;
                        AuditEntry e = log.append(event(t, id * 1000 + j));
                        if (t.equals(t1)) {
                            seqs.add(e.seq());
                        }
                    }
                } catch (Throwable e) {
                    errors.add(e);
                }
            }));
        }
        go.countDown();
        for (Thread th : all) {
            th.join(120_000);
        }
        assertTrue(errors.isEmpty(), () -> "append failed: " + errors.peek());
        int n1 = threads * 3 / 4 * perThread;
        int n2 = threads / 4 * perThread;
        Set<Long> distinct = new HashSet<>(seqs);
        assertEquals(n1, distinct.size(), "every append got its own seq");
        assertEquals(n1, distinct.stream().mapToLong(Long::longValue).max().orElse(0));
        AuditVerifier.Report r1 = verifier.verify(t1);
        assertTrue(r1.ok(), r1.message());
        assertEquals(n1, r1.checked());
        assertEquals(n1, r1.lastSeq());
        AuditVerifier.Report r2 = verifier.verify(t2);
        assertTrue(r2.ok(), r2.message());
        assertEquals(n2, r2.lastSeq());
        assertEquals(n1, sql().fetchOne("select count(*), min(seq), max(seq) from audit_log where tenant_id = ?", t1)
                .get(0, Integer.class));
        int commits = store.inserts.get() - insertsBefore;
        assertTrue(commits < n1 + n2, "group commit: " + commits + " commits for " + (n1 + n2) + " events");
    }

    @Test
    void appendAllWritesItsEventsInOrderAndOnlyForOneTenant() {
        String t = chainOf(2);
        List<AuditEntry> two = log.appendAll(List.of(event(t, 3), event(t, 4)));
        assertEquals(List.of(3L, 4L), two.stream().map(AuditEntry::seq).toList());
        assertEquals(two.get(0).hash(), two.get(1).prevHash());
        assertTrue(verifier.verify(t).ok());
        String other = tenant();
        assertThrows(IllegalArgumentException.class, () -> log.appendAll(List.of(event(t, 5), event(other, 1))));
        assertEquals(5, log.append(event(t, 5)).seq(), "a refused call leaves no gap");
    }

    /**
     * The scan reads the chain in keyset pages of {@link JooqAuditStore#SCAN_PAGE} (small, so that a checkpoint's
     * read-back never holds seconds of entries at once): a range over several pages is visited whole, in order, once.
     */
    @Test
    void scanAcrossPagesVisitsEveryEntryOnceInOrder() {
        String t = tenant();
        int n = JooqAuditStore.SCAN_PAGE * 2 + 37;
        List<AuditEvent> events = new ArrayList<>();
        for (int i = 1; i <= n; i++) {
            events.add(event(t, i));
            if (events.size() == 250 || i == n) {
                log.appendAll(events);
                events = new ArrayList<>();
            }
        }
        List<Long> seen = new ArrayList<>();
        backend.audit().scan(t, 1, Long.MAX_VALUE, e -> seen.add(e.seq()));
        assertEquals(java.util.stream.LongStream.rangeClosed(1, n).boxed().toList(), seen);
        List<Long> middle = new ArrayList<>();
        long from = JooqAuditStore.SCAN_PAGE - 3;
        long to = JooqAuditStore.SCAN_PAGE * 2L + 5;
        backend.audit().scan(t, from, to, e -> middle.add(e.seq()));
        assertEquals(java.util.stream.LongStream.rangeClosed(from, to).boxed().toList(), middle);
        AuditVerifier.Report r = verifier.verify(t);
        assertTrue(r.ok(), r.message());
        assertEquals(n, r.checked());
    }

    @Test
    void aNewAuditLogContinuesTheStoredChain() {
        String t = chainOf(5);
        AuditLog restarted = new AuditLog(backend.audit());
        assertEquals(6, restarted.append(event(t, 6)).seq());
        assertTrue(verifier.verify(t).ok());
        assertTrue(verifier.verify(t, 3).ok());
        assertEquals(4, verifier.verify(t, 3).checked());
    }

    @Test
    void editedColumnIsReportedAtItsSeq() {
        String t = chainOf(10);
        sql().execute("update audit_log set subject = ? where tenant_id = ? and seq = ?", "mallory", t, 5);
        assertBroken(t, "edited", 5);
    }

    @Test
    void editedDetailsOrHashAreReported() {
        String t = chainOf(6);
        sql().execute("update audit_log set details = replace(details, 'internal-agents', 'anything-goes') where tenant_id = ? and seq = ?", t, 2);
        assertBroken(t, "edited", 2);
        String t2 = chainOf(6);
        sql().execute("update audit_log set hash = ? where tenant_id = ? and seq = ?", "0".repeat(64), t2, 4);
        assertBroken(t2, "edited", 4);
    }

    @Test
    void deletedRowIsReportedAtItsSeq() {
        String t = chainOf(10);
        sql().execute("delete from audit_log where tenant_id = ? and seq = ?", t, 5);
        sql().execute("delete from audit_agents where tenant_id = ? and seq = ?", t, 5);
        assertBroken(t, "deleted", 5);
    }

    @Test
    void deletedRowWithRenumberingIsReported() {
        String t = chainOf(10);
        sql().execute("delete from audit_log where tenant_id = ? and seq = ?", t, 5);
        sql().execute("delete from audit_agents where tenant_id = ? and seq = ?", t, 5);
        renumber(t, 6, -1);   // close the gap
        assertBroken(t, "deleted", 5);
    }

    @Test
    void insertedRowIsReportedAtItsSeq() {
        // a forger who knows the hash of entry 4 crafts a consistent entry, links it to 4, and renumbers 5.. to make room
        String t = chainOf(10);
        AuditEntry four = backend.audit().range(t, 4, 1).get(0);
        renumber(t, 5, +1);
        AuditEntry crafted = AuditSeal.seal(event(t, 999), 5, four.atMs(), four.hash());
        backend.audit().insert(List.of(crafted));
        assertBroken(t, "inserted", 5);
    }

    @Test
    void insertedRowWithForeignLinkIsReportedAtItsSeq() {
        // a cruder forger: the crafted entry hashes correctly but links to nothing in the chain
        String t = chainOf(10);
        renumber(t, 5, +1);
        AuditEntry crafted = AuditSeal.seal(event(t, 999), 5, System.currentTimeMillis(), "ab".repeat(32));
        backend.audit().insert(List.of(crafted));
        assertBroken(t, "inserted", 5);
    }

    @Test
    void reorderedRowsAreReported() {
        String t = chainOf(10);
        swap(t, 4, 7);
        assertBroken(t, "reordered", 4);
    }

    @Test
    void reorderedNeighboursAreReported() {
        String t = chainOf(10);
        swap(t, 4, 5);
        assertBroken(t, "reordered", 4);
    }

    @Test
    void tamperingWithOneTenantLeavesOthersVerified() {
        String a = chainOf(5);
        String b = chainOf(5);
        sql().execute("delete from audit_log where tenant_id = ? and seq = ?", a, 3);
        assertFalse(verifier.verify(a).ok());
        assertTrue(verifier.verify(b).ok());
    }

    // --- canonical forms: a chain begun before V90 (v1 entries) goes on in v2 and verifies -------------------------

    @Test
    void aV1ChainContinuesInV2AndVerifies() {
        String t = tenant();
        String prev = AuditEntry.GENESIS;
        for (int i = 1; i <= 3; i++) {
            AuditEntry e = AuditSeal.seal(event(t, i), i, System.currentTimeMillis(), prev, AuditEntry.CANON_V1);
            backend.audit().insert(List.of(e));
            prev = e.hash();
        }
        AuditLog restarted = new AuditLog(backend.audit());
        AuditEntry four = restarted.append(event(t, 4));
        assertEquals(AuditEntry.CANON_V2, four.canon());
        assertEquals(prev, four.prevHash());
        List<AuditEntry> stored = backend.audit().range(t, 1, 10);
        assertEquals(List.of(1, 1, 1, 2), stored.stream().map(AuditEntry::canon).toList());
        assertTrue(verifier.verify(t).ok(), verifier.verify(t).toString());
        // the version is part of what is proven: flipping it breaks the entry
        sql().execute("update audit_log set canon = 1 where tenant_id = ? and seq = ?", t, 4);
        assertBroken(t, "edited", 4);
    }

    // --- witnessed heads: the tail after the last checkpoint, and the checkpoints themselves, under a DBA ----------

    /** A chain whose checkpoints are published to a witness file, as the broker runs it. */
    final class Witnessed {
        final String t = tenant();
        final Path dir = tmp.resolve("witness-" + t);
        final TestSigner signer = new TestSigner();
        AuditWitness witness = new AuditWitness(dir, List.of());
        AuditLog wlog = new AuditLog(backend.audit(), witness);
        AuditVerifier wverifier = new AuditVerifier(backend.audit(), signer);
        AuditCheckpoints cps = new AuditCheckpoints(backend.audit(), wlog, wverifier, signer, null, witness, 0);

        Witnessed(int n, long... checkpointsAt) {
            int k = 0;
            for (int i = 1; i <= n; i++) {
                wlog.append(event(t, i));
                if (k < checkpointsAt.length && checkpointsAt[k] == i) {
                    cps.checkpoint(t);
                    k++;
                }
            }
        }

        /** A new broker process on the same database and data dir: it reads the witness file and compares. */
        Witnessed restart() {
            witness = new AuditWitness(dir, List.of());
            wlog = new AuditLog(backend.audit(), witness);
            wverifier = new AuditVerifier(backend.audit(), signer);
            cps = new AuditCheckpoints(backend.audit(), wlog, wverifier, signer, null, witness, 0);
            return this;
        }

        String kind() {
            return witness.compare(t, backend.audit()).kind();
        }

        void assertRefused(String kind) {
            assertEquals(kind, kind());
            assertTrue(witness.refusal(t).orElseThrow().startsWith(kind), witness.refusal(t).orElseThrow());
            assertThrows(AuditWitness.ChainRefused.class, () -> wlog.append(event(t, 99)), "no append to a refused chain");
            assertThrows(AuditWitness.ChainRefused.class, () -> cps.checkpoint(t), "a refused chain is never signed");
        }

        void deleteFrom(long seq) {
            sql().execute("delete from audit_log where tenant_id = ? and seq >= ?", t, seq);
            sql().execute("delete from audit_agents where tenant_id = ? and seq >= ?", t, seq);
            sql().execute("delete from audit_checkpoints where tenant_id = ? and seq >= ?", t, seq);
        }

        /** Edits entry seq, re-hashes it and every later entry (the public recipe), drops the checkpoints from seq. */
        void rewriteFrom(long seq) {
            List<AuditEntry> tail = backend.audit().range(t, seq, 1000);
            String prev = tail.get(0).prevHash();
            for (AuditEntry e : tail) {
                String subject = e.seq() == seq ? "mallory" : e.subject();
                AuditEntry changed = new AuditEntry(e.tenantId(), e.seq(), e.atMs(), e.type(), e.outcome(), subject,
                        e.subjectIss(), e.actor(), e.agentId(), e.clientId(), e.resource(), e.scopes(), e.correlationId(),
                        e.requestId(), e.sourceIp(), e.details(), prev, null, e.canon());
                String h = changed.computeHash();
                sql().execute("update audit_log set subject = ?, prev_hash = ?, hash = ? where tenant_id = ? and seq = ?",
                        subject, prev, h, t, e.seq());
                prev = h;
            }
            sql().execute("delete from audit_checkpoints where tenant_id = ? and seq >= ?", t, seq);
        }
    }

    @Test
    void untouchedWitnessedChainVerifiesBeforeAndAfterARestart() {
        Witnessed w = new Witnessed(8, 4, 8);
        assertEquals("same", w.kind());
        assertTrue(w.wverifier.verify(w.t).ok());
        assertTrue(w.wverifier.unsignedTail(w.t).isEmpty());
        w.wlog.append(event(w.t, 9));
        assertEquals("extended", w.kind(), "entries after the last checkpoint are the unsigned, unwitnessed tail");
        AuditVerifier.Tail tail = w.wverifier.unsignedTail(w.t).orElseThrow();
        assertEquals(9, tail.fromSeq());
        assertEquals(1, tail.entries());
        w.restart();
        assertTrue(w.witness.refusal(w.t).isEmpty());
        assertEquals(10, w.wlog.append(event(w.t, 10)).seq());
        assertEquals(10, w.cps.checkpoint(w.t).orElseThrow().seq());
        assertEquals("same", w.kind());
        assertTrue(w.wverifier.verify(w.t).ok());
    }

    @Test
    void witnessedTailDeletedIsACut() {
        Witnessed w = new Witnessed(8, 6, 8);
        w.deleteFrom(7); // the tail and the checkpoint that covered it
        assertTrue(w.wverifier.verify(w.t).ok(), "the database alone cannot tell: that is why the head is witnessed");
        w.assertRefused("cut");
        w.restart();
        w.assertRefused("cut");
    }

    @Test
    void cutTogetherWithItsCheckpointsIsACutBeforeAndAfterARestart() {
        Witnessed w = new Witnessed(10, 3, 6, 10);
        w.deleteFrom(4); // entries 4..10 and the checkpoints at 6 and 10
        assertTrue(w.wverifier.verify(w.t).ok());
        w.restart();
        w.assertRefused("cut");
    }

    @Test
    void tailEditedAndResealedIsARewrite() {
        Witnessed w = new Witnessed(8, 4, 8);
        w.rewriteFrom(6);
        assertTrue(w.wverifier.verify(w.t).ok(), "re-sealed with the public recipe and its checkpoints gone");
        w.assertRefused("rewritten");
        w.restart();
        w.assertRefused("rewritten");
    }

    @Test
    void rewriteThatAlsoAppendsToReachTheWitnessedLengthIsStillARewrite() {
        Witnessed w = new Witnessed(8, 8);
        w.deleteFrom(5);
        String prev = backend.audit().range(w.t, 4, 1).get(0).hash();
        for (int i = 5; i <= 9; i++) { // forged entries, sealed correctly, beyond the witnessed length
            AuditEntry e = AuditSeal.seal(event(w.t, 1000 + i), i, System.currentTimeMillis(), prev);
            backend.audit().insert(List.of(e));
            prev = e.hash();
        }
        w.restart();
        w.assertRefused("rewritten");
    }

    @Test
    void tailAppendedAfterTheWitnessedHeadIsReportedAsExtended() {
        Witnessed w = new Witnessed(8, 8);
        AuditEntry eight = backend.audit().range(w.t, 8, 1).get(0);
        backend.audit().insert(List.of(AuditSeal.seal(event(w.t, 666), 9, System.currentTimeMillis(), eight.hash())));
        assertEquals("extended", w.kind());
        assertEquals(9, w.wverifier.unsignedTail(w.t).orElseThrow().fromSeq(), "reported as the unsigned tail");
        w.restart();
        assertEquals("extended", w.kind());
        assertTrue(w.witness.refusal(w.t).isEmpty(), "an extension alone is not refused (see docs/audit.md)");
    }

    /** Signs checkpoints with an in-memory P-256 key. */
    static final class TestSigner implements dev.deputy.broker.audit.CheckpointSigner {
        final com.nimbusds.jose.jwk.ECKey key;

        TestSigner() {
            try {
                key = new com.nimbusds.jose.jwk.gen.ECKeyGenerator(com.nimbusds.jose.jwk.Curve.P_256)
                        .keyID(UUID.randomUUID().toString()).generate();
            } catch (com.nimbusds.jose.JOSEException e) {
                throw new IllegalStateException(e);
            }
        }

        @Override
        public boolean canSign(String tenantId) {
            return true;
        }

        @Override
        public Signed sign(String tenantId, com.nimbusds.jwt.JWTClaimsSet claims) {
            try {
                com.nimbusds.jwt.SignedJWT jwt = new com.nimbusds.jwt.SignedJWT(new com.nimbusds.jose.JWSHeader.Builder(
                        com.nimbusds.jose.JWSAlgorithm.ES256).type(dev.deputy.broker.audit.CheckpointVerifier.TYP)
                        .keyID(key.getKeyID()).build(), claims);
                jwt.sign(new com.nimbusds.jose.crypto.ECDSASigner(key));
                return new Signed(jwt.serialize(), key.getKeyID(), key.toPublicJWK().toJSONString());
            } catch (com.nimbusds.jose.JOSEException e) {
                throw new IllegalStateException(e);
            }
        }

        @Override
        public String activeKid(String tenantId) {
            return key.getKeyID();
        }

        @Override
        public java.util.Map<String, com.nimbusds.jose.jwk.JWK> published(String tenantId) {
            return java.util.Map.of(key.getKeyID(), key.toPublicJWK());
        }
    }

    /** Moves rows with seq >= from by delta, in two steps so the primary key never collides. */
    void renumber(String tenant, long from, long delta) {
        // a forger renumbers the side index of agents too (it is keyed by seq)
        for (String table : new String[]{"audit_log", "audit_agents"}) {
            sql().execute("update " + table + " set seq = seq + 1000000 where tenant_id = ? and seq >= ?", tenant, from);
            sql().execute("update " + table + " set seq = seq - 1000000 + ? where tenant_id = ? and seq >= ?", delta, tenant,
                    1000000 + from);
        }
    }

    /** Swaps the contents of two rows, keeping their seq. */
    void swap(String tenant, long s1, long s2) {
        String[] cols = COLUMNS.split(",\\s*");
        Record r1 = sql().fetchOne("select " + COLUMNS + " from audit_log where tenant_id = ? and seq = ?", tenant, s1);
        Record r2 = sql().fetchOne("select " + COLUMNS + " from audit_log where tenant_id = ? and seq = ?", tenant, s2);
        String set = String.join(", ", java.util.Arrays.stream(cols).map(c -> c + " = ?").toList());
        for (Object[] pair : new Object[][]{{r2, s1}, {r1, s2}}) {
            Record src = (Record) pair[0];
            Object[] binds = new Object[cols.length + 2];
            for (int i = 0; i < cols.length; i++) {
                binds[i] = src.get(i);
            }
            binds[cols.length] = tenant;
            binds[cols.length + 1] = pair[1];
            sql().execute("update audit_log set " + set + " where tenant_id = ? and seq = ?", binds);
        }
    }
    /**
     * AuditedTransactions: a store's own write (here an agent row through JooqAgentStore, whose db.tx joins the
     * transaction) and the audit entry commit together; when the body fails after the entry was sealed, or the
     * entry cannot be written, neither is kept and the next entry takes the same sequence number (no gap).
     */
    @Test
    void stateChangeAndEntryCommitOrRollBackTogether() {
        String t = tenant();
        AuditedTransactions audited = new AuditedTransactions(backend.database(), log);
        JooqAgentStore agents = new JooqAgentStore(backend.database(), backend.sealed());
        long now = System.currentTimeMillis();
        java.util.function.Function<String, dev.deputy.broker.agent.Agent> agent = id -> new dev.deputy.broker.agent.Agent(
                t, id, id, null, "prod", List.of(), java.util.Map.of(), dev.deputy.broker.agent.Agent.Status.ACTIVE,
                dev.deputy.broker.agent.Agent.AuthMethod.PRIVATE_KEY_JWT, "test", now, now, null, null);
        java.util.function.Function<String, AuditEvent> created = id -> AuditEvent.of(t, "agent.created",
                AuditEvent.Outcome.SUCCESS).agent(id).build();

        AuditEntry first = audited.run(t, audit -> {
            agents.saveAgent(agent.apply("tx-ok"));
            return audit.append(created.apply("tx-ok"));
        });
        assertEquals(1, first.seq());
        assertTrue(agents.findAgent(t, "tx-ok").isPresent());
        assertEquals(1, backend.audit().head(t).orElseThrow().seq());

        // the body fails after its entry was sealed and written: both are rolled back
        assertThrows(IllegalStateException.class, () -> audited.run(t, audit -> {
            agents.saveAgent(agent.apply("tx-body-fails"));
            audit.append(created.apply("tx-body-fails"));
            throw new IllegalStateException("boom");
        }));
        assertTrue(agents.findAgent(t, "tx-body-fails").isEmpty(), "the agent row was rolled back");
        assertEquals(1, backend.audit().head(t).orElseThrow().seq(), "the entry was rolled back");

        // the entry cannot be written (its side-index row is taken for every retry): the change is rolled back
        for (long s = 2; s <= 80; s++) {
            sql().execute("insert into audit_agents (tenant_id, agent_id, seq, event_type) values (?, ?, ?, ?)",
                    t, "tx-audit-fails", s, "forged");
        }
        assertThrows(dev.deputy.broker.audit.AuditStore.SeqConflict.class, () -> audited.run(t, audit -> {
            agents.saveAgent(agent.apply("tx-audit-fails"));
            return audit.append(created.apply("tx-audit-fails"));
        }));
        assertTrue(agents.findAgent(t, "tx-audit-fails").isEmpty(), "no state change without its entry");
        assertEquals(1, backend.audit().head(t).orElseThrow().seq());
        sql().execute("delete from audit_agents where tenant_id = ? and agent_id = ?", t, "tx-audit-fails");

        // and the chain goes on from seq 2, gap-free, through both paths
        assertEquals(2, log.append(AuditEvent.of(t, "token.issued", AuditEvent.Outcome.SUCCESS).build()).seq());
        assertEquals(3, audited.run(t, audit -> audit.append(created.apply("tx-later"))).seq());
        assertTrue(verifier.verify(t).ok());
    }
}
