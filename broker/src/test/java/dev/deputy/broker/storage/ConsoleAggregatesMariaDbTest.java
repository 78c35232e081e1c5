package dev.deputy.broker.storage;

import dev.deputy.broker.audit.AuditStore;
import dev.deputy.broker.audit.EventTypes;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link ConsoleAggregatesContract} on a real MariaDB ({@code DEPUTY_TEST_MYSQL_URL}), and the plan of the per-hour
 * count: a range of the (tenant_id, event_type, at_ms) index (V175) answered from the index alone, never a scan of
 * the tenant's entries.
 */
class ConsoleAggregatesMariaDbTest extends ConsoleAggregatesContract {
    @Override
    StorageBackend open(Path dataDir) {
        return StorageBackend.mariaDb(dataDir);
    }

    @Test
    void thePerHourCountIsAnIndexOnlyRangeOfTheTypeTimeIndex() {
        String t = "ovw-plan";
        long h0 = 1_796_000_000_000L - Math.floorMod(1_796_000_000_000L, HOUR);
        List<Object[]> e = new ArrayList<>();
        for (int i = 0; i < 2000; i++) {
            // mostly other types, so that a plan reading every entry of the tenant would look cheap to nobody
            e.add(new Object[]{i % 10 == 0 ? EventTypes.TOKEN_ISSUED : EventTypes.POLICY_DECISION, h0 + i * 60_000L});
        }
        plant(backend.audit(), t, e);
        backend.database().read(dsl -> dsl.fetch("ANALYZE TABLE audit_log"));
        // the statement JooqAuditStore.countByHour sends
        String sql = "EXPLAIN SELECT (at_ms - MOD(at_ms, 3600000)), event_type, COUNT(*) FROM audit_log WHERE tenant_id = '"
                + t + "' AND event_type IN ('token.issued', 'token.refreshed', 'token.exchanged', 'token.rejected')"
                + " AND at_ms >= " + h0 + " AND at_ms < " + (h0 + 24 * HOUR)
                + " GROUP BY (at_ms - MOD(at_ms, 3600000)), event_type";
        List<Map<String, Object>> plan = backend.database().read(dsl -> dsl.fetch(sql).intoMaps());
        assertEquals(1, plan.size(), plan.toString());
        Map<String, Object> row = lower(plan.get(0));
        assertEquals("audit_log_type_time", row.get("key"), plan.toString());
        assertEquals("range", row.get("type"), plan.toString());
        assertTrue(String.valueOf(row.get("extra")).contains("Using index"), "read from the index alone: " + plan);
        long issued = backend.audit().countByHour(t, List.of(EventTypes.TOKEN_ISSUED), h0, h0 + 24 * HOUR).stream()
                .mapToLong(AuditStore.HourCount::count).sum();
        assertEquals(144, issued, "one entry every 10 minutes of the first 24 hours (the rest is after the window)");
    }

    private static Map<String, Object> lower(Map<String, Object> m) {
        Map<String, Object> out = new java.util.HashMap<>();
        m.forEach((k, v) -> out.put(k.toLowerCase(java.util.Locale.ROOT), v));
        return out;
    }
}
