package dev.deputy.broker.oauth;

import com.nimbusds.jose.jwk.JWK;
import dev.deputy.broker.agent.Agent;
import dev.deputy.broker.agent.AgentCredential;
import dev.deputy.broker.federation.User;
import dev.deputy.broker.federation.UserStore;
import dev.deputy.broker.token.AccessTokenSpec;
import dev.deputy.broker.token.AccessTokens;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static dev.deputy.broker.oauth.AgentTestBroker.json;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Two broker nodes sharing one MariaDB database and one Redis prefix: a private_key_jwt assertion used on node A
 * is refused on node B (jti single use across nodes), a revocation on A and a suspension on A take effect on B.
 */
class MultiNodeHttpTest {
    @TempDir
    static Path dir;
    static AgentTestNodes nodes;
    static AgentTestBroker a;
    static AgentTestBroker b;
    static JWK key = TestKeys.ec();
    static JWK callerKey = TestKeys.ec();

    @BeforeAll
    static void start() throws Exception {
        Path config = AgentTestNodes.config(dir, "display_name: Demo\n");
        Files.createDirectories(config.resolve("tenants/demo/policies"));
        Files.writeString(config.resolve("tenants/demo/policies/delegation.yml"), """
                delegation:
                  - id: worker-for-everyone
                    agents: [worker]
                    users: {all: true}
                    resources: ["*"]
                    scopes: ["*"]
                """);
        nodes = AgentTestNodes.start(2, dir, config);
        a = nodes.node(0);
        b = nodes.node(1);
        a.standardFixture();
        for (var e : Map.of("worker", key, "rs-caller", callerKey).entrySet()) {
            a.agent(e.getKey(), Agent.AuthMethod.PRIVATE_KEY_JWT, List.of("reader"));
            a.credential(e.getKey(), AgentCredential.Kind.JWKS, null, TestKeys.publicJwks(e.getValue()));
        }
    }

    @AfterAll
    static void stop() {
        if (nodes != null) {
            nodes.close();
        }
    }

    static String assertion(JWK k, String id, String aud) {
        return TestKeys.sign(k, TestKeys.claims(id, aud).build());
    }

    static Map<String, Object> introspect(AgentTestBroker node, String token) {
        Map<String, String> form = TestKeys.assertionForm(assertion(callerKey, "rs-caller", "http://deputy.test/t/demo"));
        form.remove("grant_type");
        form.put("token", token);
        HttpResponse<String> r = node.post("/t/demo/introspect", form);
        assertEquals(200, r.statusCode(), r.body());
        return json(r);
    }

    @Test
    void replayOnTheSecondNodeIsRefused() {
        String assertion = assertion(key, "worker", "http://deputy.test/t/demo");
        assertEquals(200, a.post("/t/demo/token", TestKeys.assertionForm(assertion)).statusCode());
        HttpResponse<String> replay = b.post("/t/demo/token", TestKeys.assertionForm(assertion));
        assertEquals(401, replay.statusCode(), replay.body());
        assertEquals("invalid_client", json(replay).get("error"));
        var e = b.lastAudit("token.rejected");
        assertEquals("worker", e.agentId());
        assertTrue(AgentTestBroker.details(e).get("reason").toString().contains("jti"));
    }

    @Test
    void revocationOnOneNodeIsSeenByTheOther() {
        HttpResponse<String> r = a.post("/t/demo/token",
                TestKeys.assertionForm(assertion(key, "worker", "http://deputy.test/t/demo")));
        String token = (String) json(r).get("access_token");
        assertEquals(true, introspect(b, token).get("active"));
        Map<String, String> form = TestKeys.assertionForm(assertion(key, "worker", "http://deputy.test/t/demo"));
        form.remove("grant_type");
        form.put("token", token);
        assertEquals(200, a.post("/t/demo/revoke", form).statusCode());
        assertEquals(false, introspect(b, token).get("active"));
    }

    @Test
    void suspensionOnOneNodeIsSeenByTheOther() throws Exception {
        JWK k = TestKeys.ec();
        a.agent("suspend-me", Agent.AuthMethod.PRIVATE_KEY_JWT, List.of("reader"));
        a.credential("suspend-me", AgentCredential.Kind.JWKS, null, TestKeys.publicJwks(k));
        HttpResponse<String> r = b.post("/t/demo/token",
                TestKeys.assertionForm(assertion(k, "suspend-me", "http://deputy.test/t/demo")));
        assertEquals(200, r.statusCode(), r.body());
        String token = (String) json(r).get("access_token");
        assertEquals(true, introspect(b, token).get("active")); // B has the agent cached now
        a.setStatus("suspend-me", Agent.Status.SUSPENDED);
        // pub/sub reaches B within milliseconds; allow a short grace for delivery
        boolean inactive = false;
        for (int i = 0; i < 20 && !inactive; i++) {
            inactive = Boolean.FALSE.equals(introspect(b, token).get("active"));
            if (!inactive) {
                Thread.sleep(50);
            }
        }
        assertTrue(inactive, "suspension not seen by node B");
        HttpResponse<String> refused = b.post("/t/demo/token",
                TestKeys.assertionForm(assertion(k, "suspend-me", "http://deputy.test/t/demo")));
        assertEquals(401, refused.statusCode());
    }

    static HttpResponse<String> exchange(AgentTestBroker node, String subjectToken) {
        Map<String, String> form = TestKeys.assertionForm(assertion(key, "worker", "http://deputy.test/t/demo"));
        form.put("grant_type", "urn:ietf:params:oauth:grant-type:token-exchange");
        form.put("subject_token", subjectToken);
        form.put("subject_token_type", "urn:ietf:params:oauth:token-type:access_token");
        return node.post("/t/demo/token", form);
    }

    /** Token exchange reads the user's link through a cache on each node: a suspension on A stops delegation on B. */
    @Test
    void userSuspendedOnOneNodeCannotBeDelegatedOnTheOther() throws Exception {
        String iss = "https://idp.example.com/";
        String sub = "multi-node/user " + UUID.randomUUID();
        long now = System.currentTimeMillis();
        User u = new User("demo", "usr_" + UUID.randomUUID().toString().replace("-", ""), "okta", iss, sub, null, null,
                List.of(), List.of(), User.Status.ACTIVE, now, now);
        UserStore usersOnA = a.bean(UserStore.class);
        usersOnA.insert(u);
        String userToken = a.bean(AccessTokens.class).mint(new AccessTokenSpec("demo", sub, iss, List.of(), "mcp-client",
                "https://files.example.com/mcp", List.of("files:read"), null, null, null, Map.of())).token();
        for (int i = 0; i < 2; i++) { // the second answer comes from B's cache of the link
            HttpResponse<String> ok = exchange(b, userToken);
            assertEquals(200, ok.statusCode(), ok.body());
        }

        usersOnA.setStatus("demo", u.id(), User.Status.SUSPENDED);
        HttpResponse<String> onA = exchange(a, userToken);
        assertEquals(400, onA.statusCode(), "refused at once on the node that suspended: " + onA.body());
        assertEquals("invalid_grant", json(onA).get("error"));
        // pub/sub reaches B within milliseconds, far sooner than the cache's own expiry
        HttpResponse<String> onB = null;
        for (int i = 0; i < 20; i++) {
            onB = exchange(b, userToken);
            if (onB.statusCode() != 200) {
                break;
            }
            Thread.sleep(50);
        }
        assertEquals(400, onB.statusCode(), "suspension not seen by node B: " + onB.body());
        assertEquals("invalid_grant", json(onB).get("error"));
        assertTrue(AgentTestBroker.details(b.lastAudit("token.rejected")).get("reason").toString().contains("suspended"));

        usersOnA.setStatus("demo", u.id(), User.Status.ACTIVE); // and back
        HttpResponse<String> resumed = null;
        for (int i = 0; i < 20; i++) {
            resumed = exchange(b, userToken);
            if (resumed.statusCode() == 200) {
                break;
            }
            Thread.sleep(50);
        }
        assertEquals(200, resumed.statusCode(), resumed.body());
    }

    /**
     * The lifecycle promise: an agent's token is active at introspection; an operator revokes the agent through
     * the CLI (scripts/deputy → admin API of node A); the same token is inactive on node B within one second.
     */
    @Test
    void agentRevokedThroughTheCliIsInactiveOnTheOtherNodeWithinASecond() throws Exception {
        JWK k = TestKeys.ec();
        a.agent("cli-victim", Agent.AuthMethod.PRIVATE_KEY_JWT, List.of("reader"));
        a.credential("cli-victim", AgentCredential.Kind.JWKS, null, TestKeys.publicJwks(k));
        HttpResponse<String> t = a.post("/t/demo/token", TestKeys.assertionForm(
                assertion(k, "cli-victim", "http://deputy.test/t/demo")));
        assertEquals(200, t.statusCode(), t.body());
        String token = (String) json(t).get("access_token");
        assertEquals(true, introspect(b, token).get("active"));

        Path creds = dir.resolve("a").resolve("admin-credentials.json");
        assertTrue(Files.exists(creds), "node A wrote its bootstrap admin credential");
        // the admin API on node A, as `deputy agent revoke` calls it (the CLI itself is tested in the cli module)
        Map<?, ?> c = new com.fasterxml.jackson.databind.ObjectMapper().readValue(creds.toFile(), Map.class);
        java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
        String basic = java.util.Base64.getEncoder().encodeToString((c.get("client_id") + ":" + c.get("client_secret"))
                .getBytes(java.nio.charset.StandardCharsets.UTF_8));
        HttpResponse<String> signIn = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(a.url() + "/admin/token"))
                .header("Authorization", "Basic " + basic).header("Content-Type", "application/x-www-form-urlencoded")
                .POST(java.net.http.HttpRequest.BodyPublishers.ofString("grant_type=client_credentials")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, signIn.statusCode(), signIn.body());
        HttpResponse<String> revoked = http.send(java.net.http.HttpRequest.newBuilder(
                        java.net.URI.create(a.url() + "/admin/t/demo/agents/cli-victim/revoke"))
                .header("Authorization", "Bearer " + json(signIn).get("access_token"))
                .header("Content-Type", "application/json")
                .POST(java.net.http.HttpRequest.BodyPublishers.ofString("{\"reason\":\"test\"}")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, revoked.statusCode(), revoked.body());
        long revokedAt = System.nanoTime();
        boolean inactive = false;
        while (System.nanoTime() - revokedAt < 1_000_000_000L) {
            if (Boolean.FALSE.equals(introspect(b, token).get("active"))) {
                inactive = true;
                break;
            }
            Thread.sleep(20);
        }
        long ms = (System.nanoTime() - revokedAt) / 1_000_000;
        assertTrue(inactive, "token still active on node B " + ms + " ms after the CLI revoked the agent");
        var audit = b.lastAudit("agent.revoked");
        assertEquals("cli-victim", audit.agentId());
    }
}
