package dev.deputy.broker.storage;

import org.jooq.DSLContext;
import org.junit.jupiter.api.Test;
import java.nio.file.Path;
import java.util.List;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

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
}
