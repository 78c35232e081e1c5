package dev.deputy.broker.storage;

import dev.deputy.broker.audit.AuditEntry;
import dev.deputy.broker.audit.AuditEvent;
import dev.deputy.broker.audit.AuditLog;
import dev.deputy.broker.audit.AuditStore;
import dev.deputy.broker.audit.AuditVerifier;
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
        AuditEntry crafted = AuditEntry.seal(event(t, 999), 5, four.atMs(), four.hash());
        backend.audit().insert(List.of(crafted));
        assertBroken(t, "inserted", 5);
    }

    @Test
    void insertedRowWithForeignLinkIsReportedAtItsSeq() {
        // a cruder forger: the crafted entry hashes correctly but links to nothing in the chain
        String t = chainOf(10);
        renumber(t, 5, +1);
        AuditEntry crafted = AuditEntry.seal(event(t, 999), 5, System.currentTimeMillis(), "ab".repeat(32));
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
