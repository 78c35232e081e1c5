package dev.deputy.broker.storage;

import dev.deputy.broker.audit.AuditArchive;
import dev.deputy.broker.audit.AuditCheckpoint;
import dev.deputy.broker.audit.AuditEntry;
import dev.deputy.broker.audit.AuditQuery;
import dev.deputy.broker.audit.AuditStore;
import jakarta.inject.Singleton;
import org.jooq.Condition;
import org.jooq.DSLContext;
import org.jooq.Field;
import org.jooq.Record;
import org.jooq.exception.IntegrityConstraintViolationException;
import org.jooq.impl.DSL;

import java.sql.PreparedStatement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import static dev.deputy.broker.storage.jooq.Tables.AUDIT_AGENTS;
import static dev.deputy.broker.storage.jooq.Tables.AUDIT_ARCHIVES;
import static dev.deputy.broker.storage.jooq.Tables.AUDIT_CHECKPOINTS;
import static dev.deputy.broker.storage.jooq.Tables.AUDIT_LOG;

/** The audit chain, checkpoints and archive markers in audit_log / audit_checkpoints / audit_archives / audit_agents. */
@Singleton
public class JooqAuditStore implements AuditStore {
    /**
     * Entries per keyset page of {@link #scan}. Each page is read whole before its entries are visited (no visitor
     * runs with a connection held), so this bounds what a checkpoint's read-back holds at once: at 10,000 a page was
     * ~30 MB of entries and driver values — two seconds of traffic at 6,000 requests/s — which a young collection
     * in the middle of the read promoted into the old generation (docs/benchmarks.md, issue 16). At 1,000 the same
     * again with AuthZEN batch entries (~10 KB each: a page was ~10 MB, more than the survivor space, promoted whole;
     * a full collection every 1-2 s under batch load, session 13). At 128 a page of such entries is ~1.3 MB; the
     * extra queries cost a read-back ~0.05 ms per 128 entries.
     */
    static final int SCAN_PAGE = 128;
    // Every ordered read of a tenant's chain orders by (tenant_id, seq) — the primary key — although tenant_id is
    // fixed by the WHERE clause: H2 only reads an index in order (and stops at the LIMIT) when ORDER BY spells the
    // index's columns; with ORDER BY seq alone it read the rest of the tenant's range and sorted it for every
    // keyset page, which made verifying 1,000,000 entries quadratic. MariaDB plans both forms alike.
    /** The entry columns in {@link AuditEntry} order (selected by position: no per-row name lookups). */
    static final Field<?>[] ENTRY_FIELDS = {AUDIT_LOG.TENANT_ID, AUDIT_LOG.SEQ, AUDIT_LOG.AT_MS, AUDIT_LOG.EVENT_TYPE,
            AUDIT_LOG.OUTCOME, AUDIT_LOG.SUBJECT, AUDIT_LOG.SUBJECT_ISS, AUDIT_LOG.ACTOR, AUDIT_LOG.AGENT_ID,
            AUDIT_LOG.CLIENT_ID, AUDIT_LOG.RESOURCE, AUDIT_LOG.SCOPES, AUDIT_LOG.CORRELATION_ID, AUDIT_LOG.REQUEST_ID,
            AUDIT_LOG.SOURCE_IP, AUDIT_LOG.DETAILS, AUDIT_LOG.PREV_HASH, AUDIT_LOG.HASH, AUDIT_LOG.CANON};

    private final Database db;
    /** The embedded default's write-ahead journal (null on MySQL/MariaDB, and for stores built by tests). */
    private final AuditJournal journal;

    /** Writes every batch straight into the database. */
    public JooqAuditStore(Database db) {
        this.db = db;
        this.journal = null;
    }

    /**
     * The broker's store: on the embedded H2 database, batches are journaled in the data directory and indexed
     * into the database in the background ({@link AuditJournal}); on MySQL/MariaDB every batch is one database
     * transaction (several nodes extend the same chains there, and a node's local file would hide its entries
     * from the others).
     */
    @jakarta.inject.Inject
    public JooqAuditStore(Database db, dev.deputy.broker.config.DeputySettings settings,
                          @io.micronaut.context.annotation.Value("${deputy.audit.journal.enabled:true}") boolean journaled,
                          @io.micronaut.context.annotation.Value("${deputy.audit.journal.fsync:false}") boolean fsync) {
        this.db = db;
        this.journal = journaled && "h2".equals(db.backend())
                ? AuditJournal.recover(settings.dataDir().resolve("audit-journal"), fsync, this::insertJournaled,
                AuditJournal.Limits.DEFAULT)
                : null;
    }

    /** A journaled store without a Micronaut context (tests). */
    JooqAuditStore(Database db, java.nio.file.Path journalDir, boolean fsync, AuditJournal.Limits limits) {
        this.db = db;
        this.journal = AuditJournal.recover(journalDir, fsync, this::insertJournaled, limits);
    }

    /** Makes every acknowledged entry visible to database reads (a no-op without the journal). */
    @Override
    public void settle() {
        if (journal != null) {
            journal.settle();
        }
    }

    @jakarta.annotation.PreDestroy
    public void close() {
        if (journal != null) {
            journal.close();
        }
    }

    public Database database() {
        return db;
    }

    /**
     * The ORDER BY of a read within one tenant: the index's columns, tenant first (see above). On MySQL/MariaDB this
     * reads the index in order because every pooled connection speaks the columns' collation ({@link Database}:
     * with the driver's utf8mb4_general_ci an ORDER BY naming tenant_id was a filesort of the tenant's whole range;
     * AuditChainMariaDbTest checks the plan).
     */
    private static org.jooq.SortField<?>[] order(Field<?> tenant, boolean desc, Field<?>... rest) {
        List<org.jooq.SortField<?>> out = new ArrayList<>();
        out.add(desc ? tenant.desc() : tenant.asc());
        for (Field<?> f : rest) {
            out.add(desc ? f.desc() : f.asc());
        }
        return out.toArray(new org.jooq.SortField<?>[0]);
    }

    /**
     * The audit table read through one named index on MySQL/MariaDB ({@code FORCE INDEX}). Every index of audit_log
     * starts with tenant_id, so for {@code tenant_id = ?} the optimizer estimates each of them by diving to both ends of
     * the tenant's range — 16 leaf pages for a one-row probe, far from the newest rows and out of a small buffer pool:
     * the head read took 0.2-3.6 s at 1,000,000 entries under load (scripts/bench console, 128 MiB pool). Probes whose
     * index is never in doubt name it. H2 plans these from the ORDER BY alone (see above) and gets no hint.
     */
    private org.jooq.Table<?> via(String index) {
        return "h2".equals(db.backend()) ? AUDIT_LOG : AUDIT_LOG.forceIndex(index);
    }

    @Override
    public Optional<AuditEntry> head(String tenantId) {
        settle();
        return db.read(dsl -> dsl.select(ENTRY_FIELDS).from(via("PRIMARY")).where(AUDIT_LOG.TENANT_ID.eq(tenantId))
                .orderBy(order(AUDIT_LOG.TENANT_ID, true, AUDIT_LOG.SEQ)).limit(1).fetchOptional(JooqAuditStore::map));
    }

    @Override
    public void insert(List<AuditEntry> entries) {
        if (journal != null) {
            journal.append(entries);
            return;
        }
        try {
            if (db.hasBatchPool() && textBytes(entries) <= INLINE_MAX_BYTES) {
                db.commitInline(c -> insertCommitting(c, entries));
            } else {
                db.commitBatch(dsl -> {
                    insert(dsl, entries);
                    return null;
                });
            }
        } catch (IntegrityConstraintViolationException e) {
            throw new SeqConflict(e);
        } catch (org.jooq.exception.DataAccessException e) {
            if (isDuplicate(e)) {
                throw new SeqConflict(e);
            }
            throw e;
        }
    }

    private static final String ENTRY_COLUMNS = "INSERT INTO audit_log (tenant_id, seq, at_ms, event_type, outcome,"
            + " subject, subject_iss, actor, agent_id, client_id, resource, scopes, correlation_id, request_id, source_ip,"
            + " details, prev_hash, hash, canon) VALUES ";
    private static final String ENTRY_ROW = "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
    private static final String AGENT_COLUMNS = ";INSERT INTO audit_agents (tenant_id, agent_id, seq, event_type) VALUES ";
    private static final String AGENT_ROW = "(?,?,?,?)";
    /** The statement texts by shape (entries, agent rows); a few dozen under load, at most 1,024 kept. */
    private static final java.util.concurrent.ConcurrentHashMap<Long, String> INLINE_SQL = new java.util.concurrent.ConcurrentHashMap<>();
    /**
     * Beyond this many characters of values a batch goes the JDBC-batch way, which Connector/J splits to fit the
     * server's max_allowed_packet: a batch holding policy-as-code runs with large details must not fail on the packet
     * size. At most 8 bytes a character in the text (4 of UTF-8, doubled by escaping): 1 MiB, the smallest default
     * max_allowed_packet of MySQL and MariaDB servers still met. A batch of tokens' entries (~1,000 characters each)
     * stays inline up to ~130 entries.
     */
    static final long INLINE_MAX_BYTES = 128 * 1024;

    /** The values' characters of a batch, a little over (400 for the short columns of each entry). */
    static long textBytes(List<AuditEntry> entries) {
        long n = 0;
        for (AuditEntry e : entries) {
            n += 400 + len(e.details()) + len(e.scopes()) + len(e.actor()) + len(e.subject()) + len(e.subjectIss())
                    + len(e.clientId()) + len(e.resource());
        }
        return n;
    }

    private static int len(String s) {
        return s == null ? 0 : s.length();
    }

    /**
     * MySQL/MariaDB's audit batch in one round trip: the multi-row audit_log insert, the audit_agents insert and the
     * COMMIT in one statement text (the connection is in manual-commit mode and allows multi-statement texts: {@link
     * Database#commitInline}), every value bound. Three round trips before (two inserts, then the commit), each a wake-up
     * of the audit writer and of a server thread per batch. A duplicate key (another node took the seq) fails the first
     * insert and the server runs nothing after it.
     */
    static void insertCommitting(java.sql.Connection c, List<AuditEntry> entries) throws java.sql.SQLException {
        int agentRows = 0;
        List<Set<String>> agents = new ArrayList<>(entries.size());
        for (AuditEntry e : entries) {
            Set<String> a = agentsOf(e);
            agents.add(a);
            agentRows += a.size();
        }
        int n = entries.size();
        int m = agentRows;
        long shape = ((long) n << 32) | m;
        String sql = INLINE_SQL.get(shape);
        if (sql == null) {
            sql = inlineSql(n, m);
            if (INLINE_SQL.size() < 1024) {
                INLINE_SQL.putIfAbsent(shape, sql);
            }
        }
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            int p = 1;
            for (AuditEntry e : entries) {
                ps.setString(p++, e.tenantId());
                ps.setLong(p++, e.seq());
                ps.setLong(p++, e.atMs());
                ps.setString(p++, e.type());
                ps.setString(p++, e.outcome());
                ps.setString(p++, e.subject());
                ps.setString(p++, e.subjectIss());
                ps.setString(p++, e.actor());
                ps.setString(p++, e.agentId());
                ps.setString(p++, e.clientId());
                ps.setString(p++, e.resource());
                ps.setString(p++, e.scopes());
                ps.setString(p++, e.correlationId());
                ps.setString(p++, e.requestId());
                ps.setString(p++, e.sourceIp());
                ps.setString(p++, e.details());
                ps.setString(p++, e.prevHash());
                ps.setString(p++, e.hash());
                ps.setShort(p++, (short) e.canon());
            }
            for (int i = 0; i < n; i++) {
                AuditEntry e = entries.get(i);
                for (String a : agents.get(i)) {
                    ps.setString(p++, e.tenantId());
                    ps.setString(p++, a);
                    ps.setLong(p++, e.seq());
                    ps.setString(p++, e.type());
                }
            }
            ps.execute(); // every result of the text is read before this returns: an error in any statement throws
        }
    }

    static String inlineSql(int entries, int agentRows) {
        StringBuilder sql = new StringBuilder(ENTRY_COLUMNS.length() + AGENT_COLUMNS.length() + 10
                + entries * (ENTRY_ROW.length() + 1) + agentRows * (AGENT_ROW.length() + 1));
        sql.append(ENTRY_COLUMNS);
        for (int i = 0; i < entries; i++) {
            sql.append(i == 0 ? "" : ",").append(ENTRY_ROW);
        }
        if (agentRows > 0) {
            sql.append(AGENT_COLUMNS);
            for (int i = 0; i < agentRows; i++) {
                sql.append(i == 0 ? "" : ",").append(AGENT_ROW);
            }
        }
        return sql.append(";COMMIT").toString();
    }

    private static final String INSERT_ENTRY = "INSERT INTO audit_log (tenant_id, seq, at_ms, event_type, outcome,"
            + " subject, subject_iss, actor, agent_id, client_id, resource, scopes, correlation_id, request_id, source_ip,"
            + " details, prev_hash, hash, canon) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
    private static final String INSERT_AGENT = "INSERT INTO audit_agents (tenant_id, agent_id, seq, event_type) VALUES (?, ?, ?, ?)";

    /**
     * Inserts within the caller's transaction (the entries and their agent index rows): one JDBC batch per table,
     * a statement of fixed shape whatever the batch size (the driver turns it into multi-row inserts on MySQL).
     */
    public static void insert(DSLContext dsl, List<AuditEntry> entries) {
        if (entries.isEmpty()) {
            return;
        }
        try {
            dsl.connection(c -> {
                try (PreparedStatement ps = c.prepareStatement(INSERT_ENTRY)) {
                    for (AuditEntry e : entries) {
                        ps.setString(1, e.tenantId());
                        ps.setLong(2, e.seq());
                        ps.setLong(3, e.atMs());
                        String[] s = {e.type(), e.outcome(), e.subject(), e.subjectIss(), e.actor(), e.agentId(),
                                e.clientId(), e.resource(), e.scopes(), e.correlationId(), e.requestId(), e.sourceIp(),
                                e.details(), e.prevHash(), e.hash()};
                        for (int i = 0; i < s.length; i++) {
                            ps.setString(4 + i, s[i]);
                        }
                        ps.setShort(4 + s.length, (short) e.canon());
                        ps.addBatch();
                    }
                    ps.executeBatch();
                }
                PreparedStatement agents = null;
                try {
                    for (AuditEntry e : entries) {
                        for (String a : agentsOf(e)) {
                            if (agents == null) {
                                agents = c.prepareStatement(INSERT_AGENT);
                            }
                            agents.setString(1, e.tenantId());
                            agents.setString(2, a);
                            agents.setLong(3, e.seq());
                            agents.setString(4, e.type());
                            agents.addBatch();
                        }
                    }
                    if (agents != null) {
                        agents.executeBatch();
                    }
                } finally {
                    if (agents != null) {
                        agents.close();
                    }
                }
            });
        } catch (org.jooq.exception.DataAccessException e) {
            if (e instanceof IntegrityConstraintViolationException || isDuplicate(e)) {
                throw new SeqConflict(e);
            }
            throw e;
        }
    }

    /**
     * Journal indexing and recovery: inserts the entries in one transaction; with {@code mayBePresent}, only those not
     * in the table yet.
     */
    private void insertJournaled(List<AuditEntry> entries, boolean mayBePresent) {
        if (!mayBePresent) {
            db.commitBatch(dsl -> {
                insert(dsl, entries);
                return null;
            });
            return;
        }
        db.commitBatch(dsl -> {
            Map<String, long[]> bounds = new HashMap<>();
            for (AuditEntry e : entries) {
                bounds.merge(e.tenantId(), new long[]{e.seq(), e.seq()},
                        (a, b) -> new long[]{Math.min(a[0], b[0]), Math.max(a[1], b[1])});
            }
            Set<String> present = new HashSet<>();
            bounds.forEach((tenant, b) -> dsl.select(AUDIT_LOG.SEQ).from(AUDIT_LOG)
                    .where(AUDIT_LOG.TENANT_ID.eq(tenant).and(AUDIT_LOG.SEQ.between(b[0], b[1])))
                    .fetch(AUDIT_LOG.SEQ).forEach(seq -> present.add(tenant + "\u0000" + seq)));
            List<AuditEntry> missing = present.isEmpty() ? entries
                    : entries.stream().filter(e -> !present.contains(e.tenantId() + "\u0000" + e.seq())).toList();
            insert(dsl, missing);
            return null;
        });
    }

    private static boolean isDuplicate(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof java.sql.SQLIntegrityConstraintViolationException) {
                return true;
            }
            if (t instanceof java.sql.SQLException se && se.getSQLState() != null && se.getSQLState().startsWith("23")) {
                return true;
            }
        }
        return false;
    }

    /** The agent id and every actor of the chain, once each. */
    static Set<String> agentsOf(AuditEntry e) {
        Set<String> s = new LinkedHashSet<>();
        if (e.agentId() != null) {
            s.add(e.agentId());
        }
        for (String a : e.actorChain()) {
            if (!a.isBlank() && a.length() <= 128) {
                s.add(a);
            }
        }
        return s;
    }

    @Override
    public List<AuditEntry> range(String tenantId, long fromSeq, int limit) {
        settle();
        return db.read(dsl -> dsl.select(ENTRY_FIELDS).from(via("PRIMARY"))
                .where(AUDIT_LOG.TENANT_ID.eq(tenantId).and(AUDIT_LOG.SEQ.ge(fromSeq)))
                .orderBy(order(AUDIT_LOG.TENANT_ID, false, AUDIT_LOG.SEQ)).limit(limit).fetch(JooqAuditStore::map));
    }

    /**
     * A keyset page of the chain in plain JDBC (the checkpoint's read-back of every new entry goes through here, ~one
     * row per request served): no jOOQ Record per row, the entry built straight from the result set.
     */
    private static final String SCAN_SQL = "SELECT tenant_id, seq, at_ms, event_type, outcome, subject, subject_iss,"
            + " actor, agent_id, client_id, resource, scopes, correlation_id, request_id, source_ip, details, prev_hash,"
            + " hash, canon FROM audit_log WHERE tenant_id = ? AND seq BETWEEN ? AND ? ORDER BY tenant_id, seq LIMIT "
            + SCAN_PAGE;

    @Override
    public void scan(String tenantId, long fromSeq, long toSeq, EntryVisitor visitor) {
        settle();
        long cursor = fromSeq;
        while (cursor <= toSeq) {
            final long from = cursor;
            // keyset page on the primary key: each page is one index range, whatever the table size; read whole
            // before the visitor runs, so that no visitor runs with a connection held
            List<AuditEntry> page = db.read(dsl -> dsl.connectionResult(c -> {
                try (PreparedStatement ps = c.prepareStatement(SCAN_SQL)) {
                    ps.setString(1, tenantId);
                    ps.setLong(2, from);
                    ps.setLong(3, toSeq);
                    try (java.sql.ResultSet rs = ps.executeQuery()) {
                        List<AuditEntry> out = new ArrayList<>();
                        while (rs.next()) {
                            out.add(new AuditEntry(rs.getString(1), rs.getLong(2), rs.getLong(3), rs.getString(4),
                                    rs.getString(5), rs.getString(6), rs.getString(7), rs.getString(8),
                                    rs.getString(9), rs.getString(10), rs.getString(11), rs.getString(12),
                                    rs.getString(13), rs.getString(14), rs.getString(15), rs.getString(16),
                                    rs.getString(17), rs.getString(18), rs.getInt(19)));
                        }
                        return out;
                    }
                }
            }));
            for (AuditEntry e : page) {
                if (!visitor.visit(e)) {
                    return;
                }
            }
            if (page.size() < SCAN_PAGE) {
                return;
            }
            cursor = page.get(page.size() - 1).seq() + 1;
        }
    }

    @Override
    public Optional<Long> firstSeq(String tenantId) {
        settle();
        return db.read(dsl -> dsl.select(AUDIT_LOG.SEQ).from(via("PRIMARY")).where(AUDIT_LOG.TENANT_ID.eq(tenantId))
                .orderBy(order(AUDIT_LOG.TENANT_ID, false, AUDIT_LOG.SEQ)).limit(1).fetchOptional(AUDIT_LOG.SEQ));
    }

    @Override
    public Optional<Long> firstSeqAtOrAfter(String tenantId, long atMs) {
        settle();
        return db.read(dsl -> Optional.ofNullable(dsl.select(DSL.min(AUDIT_LOG.SEQ)).from(AUDIT_LOG)
                .where(AUDIT_LOG.TENANT_ID.eq(tenantId).and(AUDIT_LOG.AT_MS.ge(atMs))).fetchOne(0, Long.class)));
    }

    @Override
    public Optional<AuditEntry> findByHash(String tenantId, String hash) {
        settle();
        return db.read(dsl -> dsl.select(ENTRY_FIELDS).from(AUDIT_LOG)
                .where(AUDIT_LOG.TENANT_ID.eq(tenantId).and(AUDIT_LOG.HASH.eq(hash)))
                .limit(1).fetchOptional(JooqAuditStore::map));
    }

    @Override
    public List<AuditEntry> query(AuditQuery q) {
        return select(q, Long.MAX_VALUE, false);
    }

    @Override
    public List<AuditEntry> queryNewestFirst(AuditQuery q, long beforeSeq) {
        return select(q, beforeSeq, true);
    }

    /** One query: the filters in SQL, afterSeq < seq < beforeSeq, in chain order or newest first, at most the limit. */
    private List<AuditEntry> select(AuditQuery q, long beforeSeq, boolean newestFirst) {
        settle();
        List<Condition> where = new ArrayList<>();
        where.add(AUDIT_LOG.TENANT_ID.eq(q.tenantId()));
        // A time window becomes a seq window first (two O(log n) probes of the (tenant, at_ms, seq) index):
        // entries are sealed in time order per tenant, and the results come in seq order, so the query stays
        // one primary-key range instead of a scan filtered by time.
        long minSeq = q.afterSeq() + 1;
        long maxSeq = beforeSeq == Long.MAX_VALUE ? Long.MAX_VALUE : beforeSeq - 1;
        if (q.fromMs() != null) {
            Long s0 = db.read(dsl -> dsl.select(AUDIT_LOG.SEQ).from(via("audit_log_time"))
                    .where(AUDIT_LOG.TENANT_ID.eq(q.tenantId()).and(AUDIT_LOG.AT_MS.ge(q.fromMs())))
                    .orderBy(order(AUDIT_LOG.TENANT_ID, false, AUDIT_LOG.AT_MS, AUDIT_LOG.SEQ)).limit(1).fetchOne(AUDIT_LOG.SEQ));
            if (s0 == null) {
                return List.of();
            }
            minSeq = Math.max(minSeq, s0);
            where.add(AUDIT_LOG.AT_MS.ge(q.fromMs()));
        }
        if (q.toMs() != null) {
            Long s1 = db.read(dsl -> dsl.select(AUDIT_LOG.SEQ).from(via("audit_log_time"))
                    .where(AUDIT_LOG.TENANT_ID.eq(q.tenantId()).and(AUDIT_LOG.AT_MS.lt(q.toMs())))
                    .orderBy(order(AUDIT_LOG.TENANT_ID, true, AUDIT_LOG.AT_MS, AUDIT_LOG.SEQ)).limit(1).fetchOne(AUDIT_LOG.SEQ));
            if (s1 == null) {
                return List.of();
            }
            maxSeq = Math.min(maxSeq, s1);
            where.add(AUDIT_LOG.AT_MS.lt(q.toMs()));
        }
        if (minSeq > maxSeq) {
            return List.of();
        }
        final long lo = minSeq;
        final long hi = maxSeq;
        if (q.subject() != null) {
            where.add(AUDIT_LOG.SUBJECT.eq(q.subject()));
        }
        if (q.client() != null) {
            where.add(AUDIT_LOG.CLIENT_ID.eq(q.client()));
        }
        if (q.resource() != null) {
            where.add(AUDIT_LOG.RESOURCE.eq(q.resource()));
        }
        if (q.outcome() != null) {
            where.add(AUDIT_LOG.OUTCOME.eq(q.outcome()));
        }
        if (q.correlationId() != null) {
            where.add(AUDIT_LOG.CORRELATION_ID.eq(q.correlationId()));
        }
        if (q.requestId() != null) {
            where.add(AUDIT_LOG.REQUEST_ID.eq(q.requestId()));
        }
        if (!q.types().isEmpty()) {
            List<String> exact = q.types().stream().filter(t -> !t.endsWith(".")).toList();
            Condition any = exact.isEmpty() ? DSL.falseCondition() : AUDIT_LOG.EVENT_TYPE.in(exact);
            for (String prefix : q.types().stream().filter(t -> t.endsWith(".")).toList()) {
                any = any.or(AUDIT_LOG.EVENT_TYPE.startsWith(prefix));
            }
            where.add(any);
        }
        if (q.agent() != null) {
            // one range of the audit_agents primary key, joined back to the entries; with one exact type, one
            // range of (tenant_id, agent_id, event_type, seq) (V70): a type the agent never had costs one probe
            where.add(AUDIT_AGENTS.TENANT_ID.eq(q.tenantId()));
            where.add(AUDIT_AGENTS.AGENT_ID.eq(q.agent()));
            if (q.types().size() == 1 && !q.types().get(0).endsWith(".")) {
                where.add(AUDIT_AGENTS.EVENT_TYPE.eq(q.types().get(0)));
            }
            where.add(AUDIT_AGENTS.SEQ.between(lo, hi));
            return db.read(dsl -> dsl.select(ENTRY_FIELDS).from(AUDIT_AGENTS)
                    .join(AUDIT_LOG).on(AUDIT_LOG.TENANT_ID.eq(AUDIT_AGENTS.TENANT_ID).and(AUDIT_LOG.SEQ.eq(AUDIT_AGENTS.SEQ)))
                    .where(where).orderBy(newestFirst ? AUDIT_AGENTS.SEQ.desc() : AUDIT_AGENTS.SEQ.asc())
                    .limit(q.limit()).fetch(JooqAuditStore::map));
        }
        where.add(AUDIT_LOG.SEQ.between(lo, hi));
        // newest first reads the same index ranges backwards (the console's audit search).
        // MariaDB's ORDER BY ... LIMIT shortcut prefers walking the primary key in seq order and filtering whenever it
        // expects a match every few thousand rows: for one exact type (agent.suspended: 0.7% of the entries) it read
        // 9,222 rows for a page of 51 (scripts/bench console, 1,000,000 entries), where the (tenant_id, event_type, seq)
        // index gives the same order reading 51. With an equality on an indexed column, every candidate index yields
        // seq order, so the primary key is kept out of the ordering choice (it stays usable for the seq range).
        boolean indexed = q.subject() != null || q.client() != null || q.resource() != null || q.correlationId() != null
                || (q.types().size() == 1 && !q.types().get(0).endsWith("."));
        org.jooq.Table<?> from = indexed && !"h2".equals(db.backend()) ? AUDIT_LOG.ignoreIndexForOrderBy("PRIMARY") : AUDIT_LOG;
        return db.read(dsl -> dsl.select(ENTRY_FIELDS).from(from).where(where)
                .orderBy(newestFirst ? AUDIT_LOG.SEQ.desc() : AUDIT_LOG.SEQ.asc()).limit(q.limit())
                .fetch(JooqAuditStore::map));
    }

    @Override
    public List<AuditEntry> bySubjectNewestFirst(String tenantId, String subject, long beforeSeq, int limit) {
        settle();
        // one backwards range of the (tenant_id, subject, seq) index (V30)
        return db.read(dsl -> dsl.select(ENTRY_FIELDS).from(AUDIT_LOG)
                .where(AUDIT_LOG.TENANT_ID.eq(tenantId).and(AUDIT_LOG.SUBJECT.eq(subject)).and(AUDIT_LOG.SEQ.lt(beforeSeq)))
                .orderBy(AUDIT_LOG.SEQ.desc()).limit(Math.max(1, Math.min(limit, AuditQuery.MAX_LIMIT)))
                .fetch(JooqAuditStore::map));
    }

    @Override
    public List<HourCount> countByHour(String tenantId, List<String> types, long fromMs, long toMs) {
        return countByHour(tenantId, types, fromMs, toMs, 0, Long.MAX_VALUE);
    }

    @Override
    public List<HourCount> countByHour(String tenantId, List<String> types, long fromMs, long toMs, long afterSeq,
                                       long upToSeq) {
        settle();
        if (types.isEmpty() || fromMs >= toMs || afterSeq >= upToSeq) {
            return List.of();
        }
        // one aggregate over the (tenant_id, event_type, at_ms) index (V175): one range per type, read from the
        // index alone (it holds every column the query needs); only the counts leave the database. With a seq window
        // (the entries appended since the overview's last count) the optimizer takes the primary key's range instead
        // when it is the smaller one: the chain's newest rows, in the buffer pool.
        // the hour inlined (not a bind value): the grouped expression and the selected one are the same SQL text
        Field<Long> hour = AUDIT_LOG.AT_MS.minus(AUDIT_LOG.AT_MS.mod(DSL.inline(HOUR_MS)));
        Condition where = AUDIT_LOG.TENANT_ID.eq(tenantId).and(AUDIT_LOG.EVENT_TYPE.in(types))
                .and(AUDIT_LOG.AT_MS.ge(fromMs)).and(AUDIT_LOG.AT_MS.lt(toMs));
        if (afterSeq > 0 || upToSeq < Long.MAX_VALUE) {
            where = where.and(AUDIT_LOG.SEQ.between(afterSeq + 1, upToSeq));
        }
        Condition w = where;
        return db.read(dsl -> dsl.select(hour, AUDIT_LOG.EVENT_TYPE, DSL.count()).from(AUDIT_LOG)
                .where(w)
                .groupBy(hour, AUDIT_LOG.EVENT_TYPE)
                .fetch(r -> new HourCount(((Number) r.get(0)).longValue(), r.get(1, String.class),
                        ((Number) r.get(2)).longValue())));
    }

    @Override
    public List<AuditEntry> newestOfType(String tenantId, String type, int limit) {
        settle();
        // one backwards range of the (tenant_id, event_type, seq) index (V30)
        return db.read(dsl -> dsl.select(ENTRY_FIELDS).from(AUDIT_LOG)
                .where(AUDIT_LOG.TENANT_ID.eq(tenantId).and(AUDIT_LOG.EVENT_TYPE.eq(type)))
                .orderBy(order(AUDIT_LOG.TENANT_ID, true, AUDIT_LOG.EVENT_TYPE, AUDIT_LOG.SEQ))
                .limit(Math.max(1, Math.min(limit, AuditQuery.MAX_LIMIT))).fetch(JooqAuditStore::map));
    }

    @Override
    public boolean insertCheckpoint(AuditCheckpoint c) {
        try {
            return db.tx(dsl -> dsl.insertInto(AUDIT_CHECKPOINTS)
                    .set(AUDIT_CHECKPOINTS.TENANT_ID, c.tenantId())
                    .set(AUDIT_CHECKPOINTS.SEQ, c.seq())
                    .set(AUDIT_CHECKPOINTS.HEAD_HASH, c.headHash())
                    .set(AUDIT_CHECKPOINTS.AT_MS, c.atMs())
                    .set(AUDIT_CHECKPOINTS.KID, c.kid())
                    .set(AUDIT_CHECKPOINTS.PUBLIC_JWK, c.publicJwk())
                    .set(AUDIT_CHECKPOINTS.JWS, c.jws())
                    .execute() == 1);
        } catch (org.jooq.exception.DataAccessException e) {
            if (e instanceof IntegrityConstraintViolationException || isDuplicate(e)) {
                return false;
            }
            throw e;
        }
    }

    @Override
    public List<AuditCheckpoint> checkpoints(String tenantId, long fromSeq, long toSeq, int limit) {
        return db.read(dsl -> dsl.selectFrom(AUDIT_CHECKPOINTS)
                .where(AUDIT_CHECKPOINTS.TENANT_ID.eq(tenantId).and(AUDIT_CHECKPOINTS.SEQ.between(fromSeq, toSeq)))
                .orderBy(order(AUDIT_CHECKPOINTS.TENANT_ID, false, AUDIT_CHECKPOINTS.SEQ)).limit(limit).fetch(JooqAuditStore::checkpoint));
    }

    @Override
    public Optional<AuditCheckpoint> latestCheckpoint(String tenantId) {
        return db.read(dsl -> dsl.selectFrom(AUDIT_CHECKPOINTS).where(AUDIT_CHECKPOINTS.TENANT_ID.eq(tenantId))
                .orderBy(order(AUDIT_CHECKPOINTS.TENANT_ID, true, AUDIT_CHECKPOINTS.SEQ)).limit(1).fetchOptional(JooqAuditStore::checkpoint));
    }

    @Override
    public Optional<AuditCheckpoint> checkpointAtOrAfter(String tenantId, long seq) {
        return db.read(dsl -> dsl.selectFrom(AUDIT_CHECKPOINTS)
                .where(AUDIT_CHECKPOINTS.TENANT_ID.eq(tenantId).and(AUDIT_CHECKPOINTS.SEQ.ge(seq)))
                .orderBy(order(AUDIT_CHECKPOINTS.TENANT_ID, false, AUDIT_CHECKPOINTS.SEQ)).limit(1).fetchOptional(JooqAuditStore::checkpoint));
    }

    @Override
    public void archive(AuditArchive m) {
        settle();
        db.tx(dsl -> {
            dsl.insertInto(AUDIT_ARCHIVES)
                    .set(AUDIT_ARCHIVES.TENANT_ID, m.tenantId())
                    .set(AUDIT_ARCHIVES.FROM_SEQ, m.fromSeq())
                    .set(AUDIT_ARCHIVES.TO_SEQ, m.toSeq())
                    .set(AUDIT_ARCHIVES.TO_HASH, m.toHash())
                    .set(AUDIT_ARCHIVES.AT_MS, m.atMs())
                    .set(AUDIT_ARCHIVES.ENTRIES, m.entries())
                    .set(AUDIT_ARCHIVES.FILE_NAME, m.fileName())
                    .set(AUDIT_ARCHIVES.FILE_SHA256, m.fileSha256())
                    .execute();
            dsl.deleteFrom(AUDIT_AGENTS).where(AUDIT_AGENTS.TENANT_ID.eq(m.tenantId())
                    .and(AUDIT_AGENTS.SEQ.between(m.fromSeq(), m.toSeq()))).execute();
            return dsl.deleteFrom(AUDIT_LOG).where(AUDIT_LOG.TENANT_ID.eq(m.tenantId())
                    .and(AUDIT_LOG.SEQ.between(m.fromSeq(), m.toSeq()))).execute();
        });
    }

    @Override
    public List<AuditArchive> archives(String tenantId) {
        return db.read(dsl -> dsl.selectFrom(AUDIT_ARCHIVES).where(AUDIT_ARCHIVES.TENANT_ID.eq(tenantId))
                .orderBy(AUDIT_ARCHIVES.TO_SEQ).fetch(r -> new AuditArchive(r.getTenantId(), r.getFromSeq(),
                        r.getToSeq(), r.getToHash(), r.getAtMs(), r.getEntries(), r.getFileName(), r.getFileSha256())));
    }

    static AuditEntry map(Record r) {
        return new AuditEntry((String) r.get(0), (Long) r.get(1), (Long) r.get(2), (String) r.get(3),
                (String) r.get(4), (String) r.get(5), (String) r.get(6), (String) r.get(7), (String) r.get(8),
                (String) r.get(9), (String) r.get(10), (String) r.get(11), (String) r.get(12), (String) r.get(13),
                (String) r.get(14), (String) r.get(15), (String) r.get(16), (String) r.get(17),
                ((Number) r.get(18)).intValue());
    }

    static AuditCheckpoint checkpoint(dev.deputy.broker.storage.jooq.tables.records.AuditCheckpointsRecord r) {
        return new AuditCheckpoint(r.getTenantId(), r.getSeq(), r.getHeadHash(), r.getAtMs(), r.getKid(),
                r.getPublicJwk(), r.getJws());
    }
}
