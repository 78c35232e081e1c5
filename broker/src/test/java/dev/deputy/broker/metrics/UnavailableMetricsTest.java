package dev.deputy.broker.metrics;

import com.nimbusds.jose.jwk.JWK;
import dev.deputy.broker.agent.Agent;
import dev.deputy.broker.agent.AgentCredential;
import dev.deputy.broker.oauth.AgentTestBroker;
import dev.deputy.broker.oauth.TestKeys;
import dev.deputy.broker.testing.PrivateServer;
import io.micronaut.runtime.server.EmbeddedServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.ServerSocket;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 16: a {@code 503 temporarily_unavailable} (here: the node's Redis killed under it) is counted as a refusal
 * ({@code deputy_tokens_refused_total} / {@code deputy_client_requests_refused_total} with
 * {@code error="temporarily_unavailable"}) and in {@code deputy_requests_unavailable_total} by what was away; when
 * Redis is back the same requests succeed without a restart.
 */
class UnavailableMetricsTest {
    static final String AGENT = "payments.settlement.reconciler";
    @TempDir
    static Path dir;
    static PrivateServer.Redis redis;
    static AgentTestBroker broker;
    static JWK key;
    static int management;

    @BeforeAll
    static void start() throws Exception {
        redis = new PrivateServer.Redis(Files.createDirectories(dir.resolve("redis")));
        redis.start();
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        broker = AgentTestBroker.builder(dir).redis(redis.uri(), "deputy-unavail:")
                .property("endpoints.all.port", port).property("endpoints.prometheus.enabled", true).start();
        EmbeddedServer server = broker.bean(EmbeddedServer.class);
        management = Scrape.managementPort(server, Set.of(server.getPort()));
        broker.standardFixture();
        key = TestKeys.ec();
        broker.agent(AGENT, Agent.AuthMethod.PRIVATE_KEY_JWT, List.of("reader"));
        broker.credential(AGENT, AgentCredential.Kind.JWKS, null, TestKeys.publicJwks(key));
    }

    @AfterAll
    static void stop() {
        if (broker != null) {
            broker.close();
        }
        if (redis != null) {
            redis.close();
        }
    }

    static Map<String, String> as(Map<String, String> params) {
        Map<String, String> form = new LinkedHashMap<>();
        form.put("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
        form.put("client_assertion", TestKeys.sign(key, TestKeys.claims(AGENT, broker.issuer()).build()));
        form.putAll(params);
        return form;
    }

    static Map<String, String> labels(String... kv) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put(kv[i], kv[i + 1]);
        }
        return m;
    }

    static void unavailable(HttpResponse<String> r) {
        assertEquals(503, r.statusCode(), r.body());
        assertEquals("temporarily_unavailable", AgentTestBroker.json(r).get("error"), r.body());
    }

    @Test
    void refusalsForAStoreThatIsAwayAreCountedWithTheirReason() {
        HttpResponse<String> ok = broker.post("/t/demo/token", as(Map.of("grant_type", "client_credentials")));
        assertEquals(200, ok.statusCode(), ok.body());
        String token = (String) AgentTestBroker.json(ok).get("access_token");
        Map<String, String> tokenRefused = labels("tenant", "demo", "grant", "client_credentials", "method", "other",
                "error", "temporarily_unavailable");
        Map<String, String> introspectionRefused = labels("tenant", "demo", "endpoint", "introspection",
                "error", "temporarily_unavailable");
        Scrape before = Scrape.of(management);
        double unavailableBefore = before.sum("deputy_requests_unavailable_total", Map.of());
        redis.kill();
        try {
            unavailable(broker.post("/t/demo/token", as(Map.of("grant_type", "client_credentials"))));
            unavailable(broker.post("/t/demo/introspect", as(Map.of("token", token))));
            Scrape after = Scrape.of(management);
            assertEquals(before.sum("deputy_tokens_refused_total", tokenRefused) + 1,
                    after.sum("deputy_tokens_refused_total", tokenRefused), after.text());
            assertEquals(before.sum("deputy_client_requests_refused_total", introspectionRefused) + 1,
                    after.sum("deputy_client_requests_refused_total", introspectionRefused));
            assertEquals(unavailableBefore + 2, after.sum("deputy_requests_unavailable_total", Map.of()));
            // by what was away: Redis holds the rate-limit buckets and the jti replay cache
            double byRedis = after.sum("deputy_requests_unavailable_total", labels("reason", "rate_limiter"))
                    + after.sum("deputy_requests_unavailable_total", labels("reason", "ephemeral"))
                    - before.sum("deputy_requests_unavailable_total", labels("reason", "rate_limiter"))
                    - before.sum("deputy_requests_unavailable_total", labels("reason", "ephemeral"));
            assertEquals(2.0, byRedis, after.series("deputy_requests_unavailable_total", Map.of()).toString());
            assertEquals(0.0, after.sum("deputy_tokens_refused_total", labels("error", "server_error")),
                    "a store away is not a server error");
        } finally {
            redis.start();
        }
        // Lettuce reconnects by itself: the next requests succeed (bounded wait, no fixed sleep)
        long deadline = System.nanoTime() + 30_000_000_000L;
        int status;
        do {
            status = broker.post("/t/demo/token", as(Map.of("grant_type", "client_credentials"))).statusCode();
        } while (status != 200 && System.nanoTime() < deadline);
        assertEquals(200, status);
    }
}
