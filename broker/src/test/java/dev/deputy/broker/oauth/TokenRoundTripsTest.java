package dev.deputy.broker.oauth;

import com.nimbusds.jose.jwk.JWK;
import dev.deputy.broker.agent.Agent;
import dev.deputy.broker.agent.AgentChanges;
import dev.deputy.broker.agent.AgentCredential;
import dev.deputy.broker.agent.AgentStore;
import dev.deputy.broker.agent.Resource;
import dev.deputy.broker.agent.Role;
import dev.deputy.broker.testing.CountingQueryInterceptor;
import dev.deputy.broker.testing.MariaDbDatabase;
import dev.deputy.broker.testing.RedisNamespace;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Issue 16: the store round trips of one private_key_jwt client_credentials token on MariaDB + Redis (the workload of
 * {@code scripts/bench peer}), counted where they leave the broker — the Redis commands Lettuce completed (its
 * command latency timers, one per command sent) and the statements Connector/J sent (a query interceptor; a JDBC
 * batch rewritten to a multi-row insert is one) — so that a new round trip on the token path fails here.
 *
 * <p>Requests are sent one after the other, so every audit batch holds one entry (under load a batch holds every
 * entry queued meanwhile: the statements per token only go down). Per token:
 * <ul>
 *   <li>Redis: one {@code SET NX PX} (the assertion's {@code jti}, RFC 7523 §3 (7)); with {@code token_per_client}
 *       on, one {@code EVALSHA} that marks the {@code jti} and takes from the client's bucket together;</li>
 *   <li>MariaDB: the audit batch — the {@code audit_log} insert, the {@code audit_agents} insert and the commit in one
 *       statement text, one round trip (three until session 9); no read (agents, keys, roles and resources come from
 *       the caches).</li>
 * </ul>
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TokenRoundTripsTest {
    static final String AGENT = "payments.settlement-reconciler." + "x".repeat(40);
    static final int TOKENS = 20;

    @TempDir
    static Path dir;
    MariaDbDatabase db;
    RedisNamespace redis;
    AgentTestBroker broker;
    final JWK key = TestKeys.ec();

    @BeforeAll
    void start() throws Exception {
        db = MariaDbDatabase.create();
        redis = RedisNamespace.create();
        Path config = dir.resolve("config");
        Files.createDirectories(config.resolve("tenants/demo"));
        Files.createDirectories(config.resolve("tenants/limited"));
        Files.writeString(config.resolve("broker.yml"), "private_key_jwt:\n  jwks_uri_allow_private: true\n");
        Files.writeString(config.resolve("tenants/demo/tenant.yml"), "display_name: Round trips\n");
        Files.writeString(config.resolve("tenants/limited/tenant.yml"),
                "display_name: Round trips, limited\nrate_limits:\n  token_per_client: 100000/1m\n");
        broker = AgentTestBroker.builder(dir).configDir(config)
                .mysql(CountingQueryInterceptor.url(db.jdbcUrl())).redis(redis.uri(), redis.prefix())
                // no checkpoint in the counted window (they are periodic, not per token)
                .property("deputy.audit.checkpoint-interval", "1h")
                .start();
        for (String tenant : List.of("demo", "limited")) {
            long now = System.currentTimeMillis();
            AgentStore store = broker.agents();
            store.saveRole(new Role(tenant, "reader", "reader", List.of("files:read"), List.of(), "api"));
            store.saveResource(new Resource(tenant, "files", "https://files.example.com/mcp", "files",
                    List.of("files:read"), true, "api"));
            store.saveAgent(new Agent(tenant, AGENT, AGENT, "owner@example.com", "prod", List.of("reader"), Map.of(),
                    Agent.Status.ACTIVE, Agent.AuthMethod.PRIVATE_KEY_JWT, "api", now, now, null, null));
            store.saveCredential(new AgentCredential(tenant, "cred_" + UUID.randomUUID().toString().substring(0, 12),
                    AGENT, AgentCredential.Kind.JWKS, null, null, TestKeys.publicJwks(key), null, null, null,
                    AgentCredential.Status.ACTIVE, now));
            broker.bean(AgentChanges.class).changed(tenant, AGENT);
        }
    }

    @AfterAll
    void stop() {
        if (broker != null) {
            broker.close();
        }
        if (db != null) {
            db.close();
        }
        if (redis != null) {
            redis.close();
        }
    }

    HttpResponse<String> token(String tenant) {
        String issuer = broker.bean(Endpoints.class).issuer(tenant);
        return broker.post("/t/" + tenant + "/token",
                TestKeys.assertionForm(TestKeys.sign(key, TestKeys.claims(AGENT, issuer).build())));
    }

    /** Redis commands completed so far, by command. */
    Map<String, Long> redisCommands() {
        Map<String, Long> out = new TreeMap<>();
        for (Timer t : broker.bean(MeterRegistry.class).find("lettuce.command.completion").timers()) {
            out.merge(t.getId().getTag("command"), t.count(), Long::sum);
        }
        out.values().removeIf(v -> v == 0);
        return out;
    }

    static Map<String, Long> minus(Map<String, Long> after, Map<String, Long> before) {
        Map<String, Long> d = new TreeMap<>();
        after.forEach((k, v) -> {
            long n = v - before.getOrDefault(k, 0L);
            if (n != 0) {
                d.put(k, n);
            }
        });
        return d;
    }

    /** One statement text: the batch's audit_log rows, its audit_agents rows and the COMMIT (one round trip). */
    static final String AUDIT_BATCH = "insert audit_log; insert audit_agents; commit";

    /** The statements by kind: the audit batch's one text, and anything else under its own text. */
    static Map<String, Long> kinds(List<String> statements) {
        Map<String, Long> out = new TreeMap<>();
        for (String s : statements) {
            String t = s.strip().toLowerCase(java.util.Locale.ROOT);
            String kind = t.startsWith("insert into audit_log ") && t.contains(";insert into audit_agents ")
                    && t.endsWith(";commit") ? AUDIT_BATCH
                    : t.startsWith("insert into audit_log ") ? "insert audit_log"
                    : t.startsWith("insert into audit_agents ") ? "insert audit_agents"
                    : t.equals("commit") ? "commit"
                    : s.length() > 120 ? s.substring(0, 120) : s;
            out.merge(kind, 1L, Long::sum);
        }
        return out;
    }

    Map<String, Long>[] count(String tenant) {
        // warm: the agent and keys in the caches, the script loaded, the signing key read
        for (int i = 0; i < 3; i++) {
            assertEquals(200, token(tenant).statusCode());
        }
        Map<String, Long> before = redisCommands();
        CountingQueryInterceptor.start();
        for (int i = 0; i < TOKENS; i++) {
            HttpResponse<String> r = token(tenant);
            assertEquals(200, r.statusCode(), r.body());
        }
        List<String> sql = CountingQueryInterceptor.stop();
        @SuppressWarnings("unchecked")
        Map<String, Long>[] both = new Map[]{minus(redisCommands(), before), kinds(sql)};
        System.out.printf("round trips of %d tokens (%s): Redis %s, MariaDB %s%n", TOKENS, tenant, both[0], both[1]);
        return both;
    }

    @Test
    void oneRedisRoundTripAndTheAuditBatchPerToken() {
        Map<String, Long>[] c = count("demo");
        assertEquals(Map.of("SET", (long) TOKENS), c[0], "Redis: the jti mark only");
        assertEquals(Map.of(AUDIT_BATCH, (long) TOKENS), c[1],
                "MariaDB: one audit batch per token in one round trip, nothing read");
    }

    @Test
    void theJtiMarkAndTheClientsBucketShareOneRoundTrip() {
        Map<String, Long>[] c = count("limited");
        assertEquals(Map.of("EVALSHA", (long) TOKENS), c[0], "Redis: one script per token (jti + token_per_client)");
        assertEquals(Map.of(AUDIT_BATCH, (long) TOKENS), c[1]);
    }
}
