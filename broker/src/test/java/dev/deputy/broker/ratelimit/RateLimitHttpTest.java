package dev.deputy.broker.ratelimit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.jwk.JWK;
import dev.deputy.broker.admin.AdminAuth;
import dev.deputy.broker.agent.Agent;
import dev.deputy.broker.agent.AgentChanges;
import dev.deputy.broker.agent.AgentCredential;
import dev.deputy.broker.agent.AgentStore;
import dev.deputy.broker.agent.Resource;
import dev.deputy.broker.agent.Role;
import dev.deputy.broker.audit.AuditEntry;
import dev.deputy.broker.audit.AuditStore;
import dev.deputy.broker.oauth.AgentTestBroker;
import dev.deputy.broker.oauth.Endpoints;
import dev.deputy.broker.oauth.TestKeys;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every rate limit at HTTP level on the embedded default (in-process buckets): 429, {@code Retry-After}, the RFC 6749
 * §5.2 body with {@code temporarily_unavailable}, and one sampled audit entry per bucket and period (the first refusal,
 * then the 10th ...). Each limit lives in a tenant of its own so the buckets do not meet; a tenant with every limit
 * off is never refused. {@link RateLimitRedisHttpTest} runs the same on Redis.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RateLimitHttpTest {
    static final ObjectMapper JSON = new ObjectMapper();
    /** Hostile-looking but valid ids: dots, dashes, long. */
    static final String AGENT = "ops.rate-limited.agent." + "x".repeat(60);
    static final String OTHER = "ops.other.agent";
    static final String REPLAYER = "ops.replayed-assertions.agent";

    @TempDir
    static Path dir;
    AgentTestBroker broker;
    JWK key = TestKeys.ec();

    /** A Redis-backed run overrides this. */
    AgentTestBroker.Builder configure(AgentTestBroker.Builder b) {
        return b;
    }

    @BeforeAll
    void start() throws Exception {
        Path config = dir.resolve("config");
        Files.createDirectories(config);
        Files.writeString(config.resolve("broker.yml"), """
                private_key_jwt:
                  jwks_uri_allow_private: true
                rate_limits:
                  admin_token_per_source: 3/1h
                """);
        tenant(config, "demo", """
                rate_limits:
                  token_per_client: 3/1h
                """);
        tenant(config, "fail", """
                rate_limits:
                  failed_client_auth_per_source: 2/1h
                """);
        tenant(config, "authz", """
                rate_limits:
                  authorize_per_source: 2/1h
                """);
        tenant(config, "whole", """
                rate_limits:
                  tenant: 4/1h
                """);
        tenant(config, "off", """
                rate_limits:
                  token_per_client: off
                  tenant: "off"
                  authorize_per_source: "off"
                  failed_client_auth_per_source: 0
                """);
        broker = configure(AgentTestBroker.builder(dir).configDir(config)).start();
        for (String t : List.of("demo", "fail", "whole", "off")) {
            agent(t, AGENT);
            agent(t, OTHER);
        }
        agent("demo", REPLAYER);
    }

    static void tenant(Path config, String id, String rateLimits) throws Exception {
        Files.createDirectories(config.resolve("tenants/" + id));
        Files.writeString(config.resolve("tenants/" + id + "/tenant.yml"), "display_name: Rate " + id + "\n" + rateLimits);
    }

    @AfterAll
    void stop() {
        if (broker != null) {
            broker.close();
        }
    }

    void agent(String tenant, String id) {
        long now = System.currentTimeMillis();
        AgentStore store = broker.agents();
        store.saveRole(new Role(tenant, "reader", "reader", List.of("files:read"), List.of(), "api"));
        store.saveResource(new Resource(tenant, "files", "https://files.example.com/mcp", "files", List.of("files:read"),
                true, "api"));
        store.saveAgent(new Agent(tenant, id, id, "owner@example.com", "prod", List.of("reader"), Map.of(),
                Agent.Status.ACTIVE, Agent.AuthMethod.PRIVATE_KEY_JWT, "api", now, now, null, null));
        store.saveCredential(new AgentCredential(tenant, "cred_" + UUID.randomUUID().toString().substring(0, 12), id,
                AgentCredential.Kind.JWKS, null, null, TestKeys.publicJwks(key), null, null, null,
                AgentCredential.Status.ACTIVE, now));
        broker.bean(AgentChanges.class).changed(tenant, id);
    }

    HttpResponse<String> token(String tenant, String clientId) {
        String issuer = broker.bean(Endpoints.class).issuer(tenant);
        return broker.post("/t/" + tenant + "/token",
                TestKeys.assertionForm(TestKeys.sign(key, TestKeys.claims(clientId, issuer).build())));
    }

    HttpResponse<String> garbage(String tenant) {
        return broker.post("/t/" + tenant + "/token", TestKeys.assertionForm("not.a.jwt"));
    }

    static void limited(HttpResponse<String> r, long maxRetryAfter) throws Exception {
        assertEquals(429, r.statusCode(), r.body());
        JsonNode body = JSON.readTree(r.body());
        assertEquals("temporarily_unavailable", body.get("error").asText(), r.body());
        assertTrue(body.get("error_description").asText().startsWith("too many requests"), r.body());
        long retryAfter = Long.parseLong(r.headers().firstValue("Retry-After").orElseThrow());
        assertTrue(retryAfter >= 1 && retryAfter <= maxRetryAfter, "Retry-After " + retryAfter);
        assertEquals("no-store", r.headers().firstValue("Cache-Control").orElse(null));
    }

    List<AuditEntry> refusals(String tenant, String type, String reason) {
        return broker.bean(AuditStore.class).range(tenant, 0, 100_000).stream()
                .filter(e -> e.type().equals(type) && e.details() != null
                        && e.details().contains("\"reason\":\"" + reason + "\""))
                .toList();
    }

    static long count(AuditEntry e) throws Exception {
        return JSON.readTree(e.details()).get("refusals_in_period").asLong();
    }

    @Test
    void tokenPerClient() throws Exception {
        for (int i = 0; i < 3; i++) {
            assertEquals(200, token("demo", AGENT).statusCode());
        }
        limited(token("demo", AGENT), 3600 / 3 + 1);
        // per client: another agent of the tenant still gets tokens from the same address
        assertEquals(200, token("demo", OTHER).statusCode());
        // nine more refusals: one entry for the first, one for the tenth (with the count), none in between
        for (int i = 0; i < 9; i++) {
            limited(token("demo", AGENT), 3600);
        }
        List<AuditEntry> sampled = refusals("demo", "token.rejected", "token_per_client");
        assertEquals(2, sampled.size(), sampled.toString());
        assertEquals(1, count(sampled.get(0)));
        assertEquals(10, count(sampled.get(1)));
        assertEquals(AGENT, sampled.get(0).clientId());
        assertTrue(sampled.get(0).details().contains("\"limit\":\"3/1h\""), sampled.get(0).details());
        // every field is declared in AuditSchema: nothing redacted
        assertTrue(sampled.stream().noneMatch(e -> e.details().contains("[redacted")), sampled.toString());
    }

    /**
     * The jti mark and the bucket are one store call (one Redis script): a replayed assertion is refused as
     * invalid_client and takes nothing from its client's bucket; a fresh one over the limit is a 429 and its jti stays
     * used.
     */
    @Test
    void replayedAssertionsTakeNothingFromTheBucket() throws Exception {
        String issuer = broker.bean(Endpoints.class).issuer("demo");
        String assertion = TestKeys.sign(key, TestKeys.claims(REPLAYER, issuer).build());
        assertEquals(200, broker.post("/t/demo/token", TestKeys.assertionForm(assertion)).statusCode());
        for (int i = 0; i < 5; i++) {
            HttpResponse<String> r = broker.post("/t/demo/token", TestKeys.assertionForm(assertion));
            assertEquals(401, r.statusCode(), r.body());
            assertEquals("invalid_client", JSON.readTree(r.body()).get("error").asText());
        }
        // 3/1h: the first request took one token, the replays none
        assertEquals(200, token("demo", REPLAYER).statusCode());
        assertEquals(200, token("demo", REPLAYER).statusCode());
        String over = TestKeys.sign(key, TestKeys.claims(REPLAYER, issuer).build());
        limited(broker.post("/t/demo/token", TestKeys.assertionForm(over)), 3600 / 3 + 1);
        // the refused request's jti was used all the same: sent again, it is a replay, not another 429
        assertEquals(401, broker.post("/t/demo/token", TestKeys.assertionForm(over)).statusCode());
    }

    @Test
    void failedClientAuthenticationPerSource() throws Exception {
        assertEquals(401, garbage("fail").statusCode());
        assertEquals(401, garbage("fail").statusCode());
        limited(garbage("fail"), 3600 / 2 + 1);
        // the source is now refused before authentication, even with a good assertion
        limited(token("fail", AGENT), 3600);
        assertEquals(1, refusals("fail", "token.rejected", "failed_client_auth_per_source").size());
        // the other tenants' buckets are their own
        assertEquals(401, garbage("off").statusCode());
    }

    @Test
    void authorizePerSource() throws Exception {
        String path = "/t/authz/authorize?response_type=code&client_id=" + URLEncoder.encode("cl ü.dotted", StandardCharsets.UTF_8);
        for (int i = 0; i < 2; i++) {
            int s = broker.get(path).statusCode();
            assertNotEquals(429, s);
            assertTrue(s < 500, "status " + s);
        }
        limited(broker.get(path), 3600 / 2 + 1);
        limited(broker.get(path), 3600);
        assertEquals(1, refusals("authz", "authorize.rejected", "authorize_per_source").size());
    }

    @Test
    void tenantOverall() throws Exception {
        // four requests of any kind (tokens of two agents, a failed authentication) fill the tenant's bucket
        assertEquals(200, token("whole", AGENT).statusCode());
        assertEquals(200, token("whole", OTHER).statusCode());
        assertEquals(401, garbage("whole").statusCode());
        assertEquals(200, token("whole", OTHER).statusCode());
        limited(token("whole", AGENT), 3600 / 4 + 1);
        limited(broker.post("/t/whole/introspect", Map.of("token", "x")), 3600);
        assertEquals(1, refusals("whole", "token.rejected", "tenant").size());
    }

    @Test
    void limitsOffAreNeverMet() {
        for (int i = 0; i < 40; i++) {
            assertEquals(200, token("off", AGENT).statusCode());
            assertEquals(401, garbage("off").statusCode());
            int s = broker.get("/t/off/authorize?response_type=code&client_id=nobody").statusCode();
            assertNotEquals(429, s);
        }
    }

    @Test
    void adminTokenPerSource() throws Exception {
        Map<String, String> wrong = Map.of("grant_type", "client_credentials", "client_id", "admin",
                "client_secret", "wrong secret ü");
        for (int i = 0; i < 3; i++) {
            assertEquals(401, broker.post("/admin/token", wrong).statusCode());
        }
        limited(broker.post("/admin/token", wrong), 3600 / 3 + 1);
        assertEquals(1, refusals(AdminAuth.SYSTEM_TENANT, "admin.token.issue", "admin_token_per_source").size());
    }
}
