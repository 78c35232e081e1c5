package dev.deputy.broker.storage;

import dev.deputy.broker.audit.AuditEntry;
import dev.deputy.broker.audit.AuditEvent;
import dev.deputy.broker.audit.AuditSeal;
import dev.deputy.broker.audit.AuditStore;
import org.jooq.DSLContext;
import org.junit.jupiter.api.Test;
import java.nio.file.Path;
import java.util.List;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The audit chain contract on a real MariaDB ({@code DEPUTY_TEST_MYSQL_URL}); fails if it is unreachable. */
class AuditChainMariaDbTest extends AuditChainContract {
    @Override
    StorageBackend open(Path dataDir) {
        return StorageBackend.mariaDb(dataDir);
    }

    /**
     * The head of a trail and its pages are read in primary-key order, never sorted: with the driver's default
     * connection collation (utf8mb4_general_ci) against the binary identifier columns, MariaDB planned
     * {@code WHERE tenant_id = '…' ORDER BY tenant_id DESC, seq DESC LIMIT 1} as a filesort of the whole trail
     * (1 s per audit head read at 500,000 entries in the soak).
     */
    @Test
    void theHeadAndPagesOfATrailAreReadInKeyOrderNotSorted() {
        String t = chainOf(300);
        DSLContext dsl = backend.database().dsl();
        for (String order : List.of("tenant_id desc, seq desc", "tenant_id, seq")) {
            String plan = dsl.fetch("EXPLAIN select seq, details from audit_log where tenant_id = ? order by " + order
                    + " limit 1", t).formatCSV();
            assertFalse(plan.toLowerCase(java.util.Locale.ROOT).contains("filesort"), order + ":\n" + plan);
        }
        assertEquals(dsl.fetchValue("select @@collation_database"), dsl.fetchValue("select @@collation_connection"),
                "the pool's connections speak the identifiers' collation");
    }

    /**
     * Issue 16: on MySQL/MariaDB a group-commit batch is one statement text — the audit_log rows, the audit_agents rows
     * and the COMMIT ({@code JooqAuditStore.insertCommitting}). When the side-index insert fails after the entries'
     * insert succeeded, the COMMIT after it never runs and the entries are rolled back: no entry without its index rows,
     * the head stays, and the pooled connection is clean for the next batch.
     */
    @Test
    void aBatchWhoseSideIndexInsertFailsLeavesNothingBehind() {
        String t = chainOf(3);
        DSLContext dsl = backend.database().dsl();
        // seq 4 is taken in audit_agents only: the entries' insert succeeds, the agents' insert fails
        dsl.execute("insert into audit_agents (tenant_id, agent_id, seq, event_type) values (?, ?, ?, ?)", t, "agt_01B", 4, "planted");
        AuditEntry head = backend.audit().head(t).orElseThrow();
        AuditEntry e4 = AuditSeal.seal(event(t, 4), 4, System.currentTimeMillis(), head.hash());
        AuditEntry e5 = AuditSeal.seal(event(t, 5), 5, System.currentTimeMillis(), e4.hash());
        assertThrows(AuditStore.SeqConflict.class, () -> backend.audit().insert(List.of(e4, e5)));
        assertEquals(0, dsl.fetchCount(dsl.selectFrom("audit_log").where("tenant_id = ? and seq >= 4", t)),
                "the entries' insert was rolled back with the failed side-index insert");
        assertEquals(3, backend.audit().head(t).orElseThrow().seq());
        dsl.execute("delete from audit_agents where tenant_id = ? and seq = 4 and event_type = 'planted'", t);
        // the batch connections are clean (no transaction left open holding the rows): the same batch goes in now
        backend.audit().insert(List.of(e4, e5));
        assertEquals(5, backend.audit().head(t).orElseThrow().seq());
        assertEquals(2 * 2, dsl.fetchCount(dsl.selectFrom("audit_agents").where("tenant_id = ? and seq >= 4", t)),
                "each entry's two agents (agent and actor chain) indexed");
        assertTrue(verifier.verify(t).ok());
    }

    /** Another node took the seq: the batch is a SeqConflict (the writer re-reads the head), nothing of it written. */
    @Test
    void aTakenSeqIsASeqConflictAndWritesNothing() {
        String t = chainOf(2);
        AuditEntry head = backend.audit().head(t).orElseThrow();
        AuditEntry e2 = AuditSeal.seal(event(t, 99), 2, System.currentTimeMillis(), head.prevHash());
        AuditEntry e3 = AuditSeal.seal(event(t, 100), 3, System.currentTimeMillis(), e2.hash());
        assertThrows(AuditStore.SeqConflict.class, () -> backend.audit().insert(List.of(e2, e3)));
        DSLContext dsl = backend.database().dsl();
        assertEquals(2, dsl.fetchCount(dsl.selectFrom("audit_log").where("tenant_id = ?", t)));
        assertEquals(head.hash(), backend.audit().head(t).orElseThrow().hash(), "the other node's entry stays");
        assertTrue(verifier.verify(t).ok());
    }

    /**
     * A batch too large for one text (values beyond JooqAuditStore.INLINE_MAX_BYTES: entries with large details, which
     * one max_allowed_packet might not hold) goes the JDBC-batch way, which the driver splits: every entry is written.
     */
    @Test
    void aBatchLargerThanOneTextIsWrittenWhole() {
        String t = tenant();
        List<AuditEntry> batch = new java.util.ArrayList<>();
        String prev = AuditEntry.GENESIS;
        String big = "x".repeat(40_000);
        for (int i = 1; i <= 8; i++) {
            AuditEntry e = AuditSeal.seal(AuditEvent.of(t, "policy.applied", AuditEvent.Outcome.SUCCESS).detail("plan", big + i)
                    .build(), i, System.currentTimeMillis(), prev);
            prev = e.hash();
            batch.add(e);
        }
        assertTrue(JooqAuditStore.textBytes(batch) > JooqAuditStore.INLINE_MAX_BYTES);
        backend.audit().insert(batch);
        assertEquals(8, backend.audit().head(t).orElseThrow().seq());
        assertTrue(verifier.verify(t).ok());
    }

    /** The statement text of a batch: both inserts and the COMMIT, a placeholder for every value. */
    @Test
    void theInlineTextHoldsBothInsertsAndTheCommit() {
        String sql = JooqAuditStore.inlineSql(2, 3);
        assertTrue(sql.startsWith("INSERT INTO audit_log ("), sql);
        assertTrue(sql.endsWith(";COMMIT"), sql);
        assertEquals(2 * 19 + 3 * 4, sql.chars().filter(c -> c == '?').count());
        assertEquals(1, sql.split(";INSERT INTO audit_agents ", -1).length - 1);
        assertFalse(JooqAuditStore.inlineSql(1, 0).contains("audit_agents"));
    }
}
