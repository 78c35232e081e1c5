package dev.deputy.broker.oauth;

import com.nimbusds.jose.jwk.JWK;
import dev.deputy.broker.agent.Agent;
import dev.deputy.broker.agent.AgentCredential;
import dev.deputy.broker.token.AccessTokenSpec;
import dev.deputy.broker.token.AccessTokens;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static dev.deputy.broker.oauth.AgentTestBroker.json;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/** Introspection (RFC 7662) and revocation (RFC 7009) on the embedded default. */
class IntrospectionHttpTest {
    @TempDir
    static Path dir;
    static AgentTestBroker broker;
    static JWK callerKey = TestKeys.ec();
    static JWK workerKey = TestKeys.ec();
    static JWK otherKey = TestKeys.ec();

    @BeforeAll
    static void start() {
        broker = AgentTestBroker.builder(dir).tenants("demo", "other").start();
        broker.standardFixture();
        for (var e : Map.of("rs-caller", callerKey, "worker", workerKey, "other-agent", otherKey).entrySet()) {
            broker.agent(e.getKey(), Agent.AuthMethod.PRIVATE_KEY_JWT, List.of("reader"));
            broker.credential(e.getKey(), AgentCredential.Kind.JWKS, null, TestKeys.publicJwks(e.getValue()));
        }
    }

    @AfterAll
    static void stop() {
        broker.close();
    }

    static Map<String, String> auth(JWK key, String id, Map<String, String> params) {
        Map<String, String> form = TestKeys.assertionForm(
                TestKeys.sign(key, TestKeys.claims(id, broker.issuer()).build()));
        form.remove("grant_type");
        form.putAll(params);
        return form;
    }

    static String tokenFor(JWK key, String id) {
        HttpResponse<String> r = broker.post("/t/demo/token",
                TestKeys.assertionForm(TestKeys.sign(key, TestKeys.claims(id, broker.issuer()).build())));
        assertEquals(200, r.statusCode(), r.body());
        return (String) json(r).get("access_token");
    }

    static Map<String, Object> introspect(String token) {
        HttpResponse<String> r = broker.post("/t/demo/introspect", auth(callerKey, "rs-caller", Map.of("token", token)));
        assertEquals(200, r.statusCode(), r.body());
        assertEquals("no-store", r.headers().firstValue("Cache-Control").orElse(null));
        return json(r);
    }

    @Test
    void activeTokenIsEchoed() {
        String token = tokenFor(workerKey, "worker");
        Map<String, Object> body = introspect(token);
        assertEquals(true, body.get("active"));
        assertEquals("worker", body.get("sub"));
        assertEquals("worker", body.get("client_id"));
        assertEquals("https://files.example.com/mcp", body.get("aud"));
        assertEquals("files:read files:list", body.get("scope"));
        assertEquals(broker.issuer(), body.get("iss"));
        assertEquals("Bearer", body.get("token_type"));
        assertNotNull(body.get("exp"));
        assertNotNull(body.get("iat"));
        assertNotNull(body.get("jti"));
    }

    @Test
    void delegatedTokenEchoesActAndSubId() {
        String token = broker.bean(AccessTokens.class).mint(new AccessTokenSpec("demo", "user-123",
                "https://idp.example.com", List.of("worker"), "worker", "https://files.example.com/mcp",
                List.of("files:read"), "thumb", null, Duration.ofMinutes(1), Map.of())).token();
        Map<String, Object> body = introspect(token);
        assertEquals(true, body.get("active"), body.toString());
        assertEquals(Map.of("sub", "worker"), body.get("act"));
        assertEquals(Map.of("format", "iss_sub", "iss", "https://idp.example.com", "sub", "user-123"), body.get("sub_id"));
        assertEquals(Map.of("x5t#S256", "thumb"), body.get("cnf"));
    }

    @Test
    void revokedByItsOwnerIsInactive() {
        String token = tokenFor(workerKey, "worker");
        HttpResponse<String> r = broker.post("/t/demo/revoke", auth(workerKey, "worker", Map.of("token", token)));
        assertEquals(200, r.statusCode(), r.body());
        assertEquals("token.revoked", broker.lastAudit("token.revoked").type());
        assertEquals(Map.of("active", false), introspect(token));
        assertEquals("revoked", AgentTestBroker.details(broker.lastAudit("token.introspected_inactive")).get("reason"));
    }

    @Test
    void revocationByAnotherClientIsIgnored() {
        String token = tokenFor(workerKey, "worker");
        HttpResponse<String> r = broker.post("/t/demo/revoke", auth(otherKey, "other-agent", Map.of("token", token)));
        assertEquals(200, r.statusCode()); // RFC 7009 §2.2
        assertEquals("not_owner", AgentTestBroker.details(broker.lastAudit("token.revocation.ignored")).get("reason"));
        assertEquals(true, introspect(token).get("active"));
    }

    @Test
    void unknownTokenRevocationIs200() {
        HttpResponse<String> r = broker.post("/t/demo/revoke", auth(workerKey, "worker", Map.of("token", "abc")));
        assertEquals(200, r.statusCode());
    }

    @Test
    void suspendedAgentsTokensAreInactiveAtOnce() {
        JWK k = TestKeys.ec();
        broker.agent("to-suspend", Agent.AuthMethod.PRIVATE_KEY_JWT, List.of("reader"));
        broker.credential("to-suspend", AgentCredential.Kind.JWKS, null, TestKeys.publicJwks(k));
        String token = tokenFor(k, "to-suspend");
        assertEquals(true, introspect(token).get("active"));
        broker.setStatus("to-suspend", Agent.Status.SUSPENDED);
        assertEquals(Map.of("active", false), introspect(token));
        assertEquals("agent_suspended", AgentTestBroker.details(broker.lastAudit("token.introspected_inactive")).get("reason"));
        broker.setStatus("to-suspend", Agent.Status.ACTIVE);
        assertEquals(true, introspect(token).get("active"));
        broker.setStatus("to-suspend", Agent.Status.REVOKED);
        assertEquals(false, introspect(token).get("active"));
    }

    @Test
    void aTokenAnsweredFromTheVerifiedTokenCacheIsStillRevocableAndSuspendable() {
        JWK k = TestKeys.ec();
        broker.agent("cached-agent", Agent.AuthMethod.PRIVATE_KEY_JWT, List.of("reader"));
        broker.credential("cached-agent", AgentCredential.Kind.JWKS, null, TestKeys.publicJwks(k));
        String revokedLater = tokenFor(k, "cached-agent");
        String suspendedLater = tokenFor(k, "cached-agent");
        for (int i = 0; i < 3; i++) { // the second and third answers come from the cache
            assertEquals(true, introspect(revokedLater).get("active"));
            assertEquals(true, introspect(suspendedLater).get("active"));
        }
        var jti = (String) introspect(revokedLater).get("jti");
        broker.bean(dev.deputy.broker.token.Revocations.class).revoke("demo", jti, java.time.Instant.now().plusSeconds(600));
        assertEquals(Map.of("active", false), introspect(revokedLater));
        assertEquals("revoked", AgentTestBroker.details(broker.lastAudit("token.introspected_inactive")).get("reason"));
        assertEquals(true, introspect(suspendedLater).get("active"));
        broker.setStatus("cached-agent", Agent.Status.SUSPENDED);
        assertEquals(Map.of("active", false), introspect(suspendedLater));
        assertEquals("agent_suspended", AgentTestBroker.details(broker.lastAudit("token.introspected_inactive")).get("reason"));
    }

    @Test
    void actorChainAgentSuspendedMakesDelegatedTokenInactive() {
        JWK k = TestKeys.ec();
        broker.agent("actor-b", Agent.AuthMethod.PRIVATE_KEY_JWT, List.of("reader"));
        String token = broker.bean(AccessTokens.class).mint(new AccessTokenSpec("demo", "user-9", "https://idp.example.com",
                List.of("actor-b", "worker"), "actor-b", "https://files.example.com/mcp", List.of("files:read"), null, null,
                Duration.ofMinutes(1), Map.of())).token();
        assertEquals(true, introspect(token).get("active"));
        broker.setStatus("actor-b", Agent.Status.SUSPENDED);
        assertEquals(false, introspect(token).get("active"));
    }

    @Test
    void aSuspendedUsersTokensAreInactiveAtOnce() {
        var users = broker.bean(dev.deputy.broker.federation.UserStore.class);
        long now = System.currentTimeMillis();
        var u = new dev.deputy.broker.federation.User("demo", "usr_" + java.util.UUID.randomUUID(), "okta",
                "https://idp.example.com", "Jörg.Müller @corp", null, null, List.of(), List.of(),
                dev.deputy.broker.federation.User.Status.ACTIVE, now, now);
        users.insert(u);
        String token = broker.bean(AccessTokens.class).mint(new AccessTokenSpec("demo", "Jörg.Müller @corp",
                "https://idp.example.com", List.of("worker"), "worker", "https://files.example.com/mcp",
                List.of("files:read"), null, null, Duration.ofMinutes(1), Map.of())).token();
        assertEquals(true, introspect(token).get("active"));
        users.setStatus("demo", u.id(), dev.deputy.broker.federation.User.Status.SUSPENDED);
        assertEquals(Map.of("active", false), introspect(token));
        assertEquals("user_suspended", AgentTestBroker.details(broker.lastAudit("token.introspected_inactive")).get("reason"));
    }

    @Test
    void otherTenantsTokenIsInactive() {
        String token = broker.bean(AccessTokens.class).mint(new AccessTokenSpec("other", "worker", null, List.of(), "worker",
                "https://files.example.com/mcp", List.of("files:read"), null, null, Duration.ofMinutes(1), Map.of())).token();
        assertEquals(Map.of("active", false), introspect(token));
        assertEquals("other_tenant", AgentTestBroker.details(broker.lastAudit("token.introspected_inactive")).get("reason"));
    }

    @Test
    void garbageIsInactive() {
        assertEquals(Map.of("active", false), introspect("eyJhbGciOiJub25lIn0.e30."));
    }

    @Test
    void unauthenticatedCallersAreRejected() {
        HttpResponse<String> r = broker.post("/t/demo/introspect", Map.of("token", "x"));
        assertEquals(401, r.statusCode());
        assertEquals("invalid_client", json(r).get("error"));
        assertEquals("invalid_client", AgentTestBroker.details(broker.lastAudit("introspection.rejected")).get("error"));
        HttpResponse<String> rv = broker.post("/t/demo/revoke", Map.of("token", "x"));
        assertEquals(401, rv.statusCode());
        assertEquals("invalid_client", AgentTestBroker.details(broker.lastAudit("revocation.rejected")).get("error"));
    }

    @Test
    void missingTokenIsInvalidRequest() {
        HttpResponse<String> r = broker.post("/t/demo/introspect", auth(callerKey, "rs-caller", Map.of()));
        assertEquals(400, r.statusCode());
        assertEquals("invalid_request", json(r).get("error"));
    }
}
