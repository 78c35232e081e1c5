package dev.deputy.broker.health;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.deputy.broker.audit.AuditVerifier;
import dev.deputy.broker.testing.ConfigFixture;
import dev.deputy.broker.testing.PrivateServer;
import dev.deputy.broker.testing.TestBroker;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Faults of the shared dependencies, on a Redis and a MariaDB of the test's own (child processes on spare
 * loopback ports): when one dies, {@code /health} answers 503 naming it and requests that need it answer
 * 503 {@code temporarily_unavailable}; when it comes back on the same port, the broker recovers by itself.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class FaultsTest {
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path tmp;
    PrivateServer.Redis redis;
    PrivateServer.MariaDb mariaDb;
    TestBroker broker;

    @BeforeAll
    void start() throws Exception {
        redis = new PrivateServer.Redis(Files.createDirectories(tmp.resolve("redis")));
        redis.start();
        mariaDb = new PrivateServer.MariaDb(Files.createDirectories(tmp.resolve("mariadb")));
        mariaDb.start();
        mariaDb.createDatabase("deputy");
        Path config = ConfigFixture.copyOfShipped(Files.createDirectories(tmp.resolve("config")));
        broker = TestBroker.builder(tmp.resolve("data"), config)
                .mysql(mariaDb.serverUrl() + "deputy", "root", "")
                .redis(redis.uri(), "faults:")
                .testControllers()
                .start();
    }

    @AfterAll
    void stop() {
        try {
            if (broker != null) {
                broker.close();
            }
        } finally {
            if (redis != null) {
                redis.close();
            }
            if (mariaDb != null) {
                mariaDb.close();
            }
        }
    }

    JsonNode health(int expectedStatus) throws Exception {
        HttpResponse<String> r = broker.get("/health");
        assertEquals(expectedStatus, r.statusCode(), r.body());
        return JSON.readTree(r.body());
    }

    /** Polls /health until the predicate holds (bounded). */
    JsonNode awaitHealth(String what, Predicate<HttpResponse<String>> condition, int seconds) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        HttpResponse<String> r;
        while (!condition.test(r = broker.get("/health"))) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within " + seconds + " s: " + what + "; last: " + r.statusCode() + " " + r.body());
            }
            Thread.sleep(200);
        }
        return JSON.readTree(r.body());
    }

    /** Readiness follows the dependencies; liveness never does (an outage must not get every node restarted). */
    void assertProbes(int readiness) throws Exception {
        HttpResponse<String> ready = broker.get("/health/ready");
        assertEquals(readiness, ready.statusCode(), ready.body());
        HttpResponse<String> live = broker.get("/health/live");
        assertEquals(200, live.statusCode(), live.body());
    }

    static void assertUnavailable(HttpResponse<String> r, String dependency) throws Exception {
        assertEquals(503, r.statusCode(), r.body());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("application/json"));
        assertTrue(r.headers().firstValue("Retry-After").isPresent());
        JsonNode body = JSON.readTree(r.body());
        assertEquals("temporarily_unavailable", body.get("error").asText());
        assertTrue(body.get("error_description").asText().contains(dependency), r.body());
    }

    @Test
    @Order(1)
    void healthyOnProductionBackends() throws Exception {
        JsonNode h = health(200);
        assertEquals("UP", h.get("status").asText());
        assertEquals("mariadb", h.at("/checks/database/backend").asText());
        assertEquals("redis", h.at("/checks/ephemeral/backend").asText());
        assertEquals(204, broker.post("/test/ephemeral/k1", "text/plain", "v1").statusCode());
        assertEquals("v1", broker.get("/test/ephemeral/k1").body());
        assertEquals(200, broker.post("/test/audit/demo", "text/plain", "before-faults").statusCode());
    }

    @Test
    @Order(2)
    void redisDownThen503ThenRecoversWithoutRestart() throws Exception {
        redis.kill();
        JsonNode h = awaitHealth("ephemeral DOWN", r -> r.statusCode() == 503, 30);
        assertEquals("DOWN", h.get("status").asText());
        assertEquals("DOWN", h.at("/checks/ephemeral/status").asText());
        assertEquals("UP", h.at("/checks/database/status").asText());
        assertProbes(503);
        assertUnavailable(broker.post("/test/ephemeral/k2", "text/plain", "v2"), "ephemeral");
        assertUnavailable(broker.get("/test/ephemeral/k1"), "ephemeral");
        // the durable side still works
        assertEquals(200, broker.post("/test/audit/demo", "text/plain", "while-redis-down").statusCode());

        redis.start();   // same port, empty (it keeps nothing on disk)
        JsonNode back = awaitHealth("ephemeral back UP", r -> r.statusCode() == 200, 60);
        assertEquals("UP", back.at("/checks/ephemeral/status").asText());
        assertProbes(200);
        assertEquals(204, broker.post("/test/ephemeral/k2", "text/plain", "v2").statusCode());
        assertEquals("v2", broker.get("/test/ephemeral/k2").body());
    }

    @Test
    @Order(3)
    void mariaDbDownThen503ThenRecoversWithoutRestart() throws Exception {
        long seqBefore = JSON.readTree(broker.post("/test/audit/demo", "text/plain", "before-db-down").body()).get("seq").asLong();
        mariaDb.kill();
        JsonNode h = awaitHealth("database DOWN", r -> r.statusCode() == 503, 30);
        assertEquals("DOWN", h.at("/checks/database/status").asText());
        assertEquals("UP", h.at("/checks/ephemeral/status").asText());
        assertProbes(503);
        // an audit append fails cleanly: 503, nothing half-written
        assertUnavailable(broker.post("/test/audit/demo", "text/plain", "while-db-down"), "database");
        assertUnavailable(broker.post("/test/audit/demo", "text/plain", "while-db-down-2"), "database");
        // what does not need the database still works
        assertEquals(204, broker.post("/test/ephemeral/k3", "text/plain", "v3").statusCode());
        assertEquals(200, broker.get("/.well-known/oauth-authorization-server/t/demo").statusCode());
        assertEquals(200, broker.get("/t/demo/jwks.json").statusCode());

        mariaDb.start();   // same port, same data
        awaitHealth("database back UP", r -> r.statusCode() == 200, 60);
        assertProbes(200);
        HttpResponse<String> ok = broker.post("/test/audit/demo", "text/plain", "after-db-back");
        assertEquals(200, ok.statusCode(), ok.body());
        assertEquals(seqBefore + 1, JSON.readTree(ok.body()).get("seq").asLong(), "the failed appends left no gap");
        AuditVerifier.Report report = broker.bean(AuditVerifier.class).verify("demo");
        assertTrue(report.ok(), report.message());
        assertEquals(seqBefore + 1, report.lastSeq());
    }
}
