package dev.deputy.broker.metrics;

import dev.deputy.broker.oauth.AgentTestBroker;
import dev.deputy.broker.testing.MariaDbDatabase;
import dev.deputy.broker.testing.RedisNamespace;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The metrics on MariaDB + Redis: the same flows, plus the audit batch pool and Lettuce's command latencies; and
 * every series the shipped Grafana dashboard and Prometheus alert rules use exists in a scrape.
 */
class MetricsHttpMariaDbRedisTest extends MetricsHttpContract {
    MariaDbDatabase db;
    RedisNamespace redis;

    @Override
    AgentTestBroker.Builder backend(AgentTestBroker.Builder b) {
        db = MariaDbDatabase.create();
        redis = RedisNamespace.create();
        return b.mysql(db.jdbcUrl()).redis(redis.uri(), redis.prefix());
    }

    @Override
    String databaseBackend() {
        return "mariadb";
    }

    @AfterAll
    void dropBackends() {
        if (db != null) {
            db.close();
        }
        if (redis != null) {
            redis.close();
        }
    }

    @Test
    void batchPoolAndRedisCommandLatencies() {
        assertEquals(200, broker.post("/t/demo/token", clientCredentials(AGENT)).statusCode());
        Scrape s = Scrape.of(management);
        assertTrue(s.value("hikaricp_connections_max", labels("pool", "deputy-db-batch")) >= 1);
        assertEquals(1.0, s.value("deputy_dependency_up", labels("dependency", "ephemeral", "backend", "redis")));
        // the assertion's jti went through Redis (RFC 7523 §3: single use), so a command was timed
        assertTrue(s.sum("lettuce_command_completion_seconds_count", Map.of()) >= 1, s.names().toString());
        assertTrue(s.series("lettuce_command_completion_seconds_bucket", labels("le", "0.001")).size() >= 1);
        for (Scrape.Sample x : s.series("lettuce_command_completion_seconds_count", Map.of())) {
            assertTrue(!x.labels().containsKey("local") || "local:any".equals(x.labels().get("local")),
                    "no per-connection label: " + x);
        }
    }

    @Test
    void everySeriesOfTheDashboardAndTheAlertRulesExists() throws Exception {
        // drive what the panels show: an issued token, a refusal, an exchange decision
        assertEquals(200, broker.post("/t/demo/token", clientCredentials(AGENT)).statusCode());
        Map<String, String> bad = clientCredentials(AGENT);
        bad.put("grant_type", "password");
        assertEquals(400, broker.post("/t/demo/token", bad).statusCode());
        exchange(OTHER_AGENT);
        // introspection without client authentication (RFC 7662 §2.1)
        assertEquals(401, broker.post("/t/demo/introspect", Map.of("token", "x")).statusCode());
        // the GC pause timer exists once the JVM reported a collection (a notification, asynchronous): ask for one
        // and wait for the series, bounded, rather than hoping a young collection happened during the test
        Scrape s = Scrape.of(management);
        for (int i = 0; i < 200 && !s.names().contains("jvm_gc_pause_seconds_sum"); i++) {
            System.gc();
            Thread.sleep(50);
            s = Scrape.of(management);
        }
        assertEquals(1.0, s.value("deputy_client_requests_refused_total", labels("tenant", "demo",
                "endpoint", "introspection", "method", "unauthenticated", "error", "invalid_client")));
        OpsFiles.assertAllExist(s);
    }
}
