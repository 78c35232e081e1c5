package dev.deputy.broker.storage;

import dev.deputy.broker.audit.AuditEntry;
import dev.deputy.broker.audit.AuditEvent;
import dev.deputy.broker.audit.AuditLog;
import dev.deputy.broker.audit.AuditVerifier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The embedded default keeps an audit entry's details (a TEXT column, a CLOB in H2's MySQL mode) in the row up to
 * {@link Database#INPLACE_LOB_BYTES}, not in H2's separate LOB storage: the setting is in force on every pooled
 * connection, and details below, at and far above it (unicode, dotted and long identifiers) come back byte for byte
 * and verify.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class H2InplaceDetailsTest {
    @TempDir
    static Path tmp;
    StorageBackend backend;

    @BeforeAll
    void open() {
        backend = StorageBackend.h2(tmp);
    }

    @AfterAll
    void close() {
        backend.close();
    }

    @Test
    void theSettingIsInForceOnEveryConnection() {
        for (int i = 0; i < 4; i++) { // more reads than the pool keeps idle connections warm for one
            String v = backend.database().read(dsl -> dsl.fetchValue(
                    "SELECT SETTING_VALUE FROM INFORMATION_SCHEMA.SETTINGS WHERE SETTING_NAME = 'MAX_LENGTH_INPLACE_LOB'"))
                    .toString();
            assertEquals(String.valueOf(Database.INPLACE_LOB_BYTES), v);
        }
    }

    /** The page cache is bounded at {@link Database#H2_CACHE_KB} (not H2's heap-scaled default; issue 16). */
    @Test
    void thePageCacheIsTheBrokersSize() {
        assertEquals(String.valueOf(Database.H2_CACHE_KB / 1024), H2CacheDefaultTest.cacheMb(backend.database()));
    }

    @Test
    void detailsOfEverySizeComeBackAsSealed() {
        AuditLog log = new AuditLog(backend.audit());
        String tenant = "inplace.tenant-Zoë";
        List<Integer> sizes = List.of(40, 700, Database.INPLACE_LOB_BYTES / 3, Database.INPLACE_LOB_BYTES * 3);
        for (int size : sizes) {
            Map<String, Object> args = new LinkedHashMap<>();
            args.put("to", "Zoë Müller – 支付 " + "ü".repeat(size / 2));
            args.put("amount", size);
            log.append(AuditEvent.of(tenant, "policy.decision", AuditEvent.Outcome.ALLOW)
                    .subject("jonathan.christopher.williams@example.com", null)
                    .actors(List.of("payments.settlement.reconciler"))
                    .client("bench-pep").resource("https://bank.example.com/mcp")
                    .detail("kind", "tool").detail("tool", "transfer_funds").detail("rule", "payments-agents")
                    .detail("arguments", args).build());
        }
        List<AuditEntry> back = backend.audit().range(tenant, 1, 100);
        assertEquals(sizes.size(), back.size());
        for (AuditEntry e : back) {
            assertTrue(e.hashMatches(), "entry " + e.seq() + " verifies as read back");
            assertTrue(e.details().contains("Zoë Müller – 支付"), e.details().substring(0, 80));
        }
        assertTrue(back.get(sizes.size() - 1).details().length() > Database.INPLACE_LOB_BYTES * 3 / 2,
                "a value beyond the in-place limit is stored whole (in the LOB storage)");
        assertTrue(new AuditVerifier(backend.audit()).verify(tenant).ok());
    }
}
