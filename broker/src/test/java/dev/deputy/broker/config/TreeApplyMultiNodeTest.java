package dev.deputy.broker.config;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jwt.SignedJWT;
import dev.deputy.broker.agent.Agent;
import dev.deputy.broker.agent.AgentCredential;
import dev.deputy.broker.oauth.AgentTestBroker;
import dev.deputy.broker.oauth.AgentTestNodes;
import dev.deputy.broker.oauth.TestKeys;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Two broker nodes on one MariaDB and one Redis: node A applies the tenant's tenant.yml (token lifetime),
 * registration.yml (registration closed), policies/ (a delegation rule), connectors/, clients/ and trust/ through the
 * admin API; node B serves each change without a restart.
 */
class TreeApplyMultiNodeTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient HTTP = HttpClient.newHttpClient();
    static final String AGENT = "payments.settlement.reconciler";

    @TempDir
    Path dir;

    static HttpResponse<String> send(HttpRequest.Builder b) throws Exception {
        return HTTP.send(b.timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString());
    }

    static Map<String, Object> json(String body) throws Exception {
        return JSON.readValue(body, new TypeReference<>() {
        });
    }

    static long lifetime(AgentTestBroker node, JWK key) throws Exception {
        HttpResponse<String> r = node.post("/t/demo/token",
                TestKeys.assertionForm(TestKeys.sign(key, TestKeys.claims(AGENT, "http://deputy.test/t/demo").build())));
        assertEquals(200, r.statusCode(), r.body());
        var claims = SignedJWT.parse((String) json(r.body()).get("access_token")).getJWTClaimsSet();
        return (claims.getExpirationTime().getTime() - claims.getIssueTime().getTime()) / 1000;
    }

    static int register(AgentTestBroker node) throws Exception {
        return send(HttpRequest.newBuilder(URI.create(node.url() + "/t/demo/register")).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"redirect_uris\":[\"http://127.0.0.1:7777/callback\"],"
                        + "\"client_name\":\"zoë-agent\"}"))).statusCode();
    }

    /** Polls until the condition holds (the change travels by pub/sub); fails after 20 s. */
    static void eventually(String what, BooleanSupplier condition) throws InterruptedException {
        long until = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > until) {
                throw new AssertionError("node B never saw: " + what);
            }
            Thread.sleep(50);
        }
    }

    @Test
    void nodeBServesWhatNodeAApplied() throws Exception {
        Path config = dir.resolve("config");
        Files.createDirectories(config.resolve("tenants/demo"));
        Files.writeString(config.resolve("tenants/demo/tenant.yml"), "display_name: Settlement\naccess_token_ttl: 10m\n");
        JWK key = TestKeys.ec();
        try (AgentTestNodes nodes = AgentTestNodes.start(2, dir, config)) {
            AgentTestBroker a = nodes.node(0);
            AgentTestBroker b = nodes.node(1);
            a.standardFixture();
            a.agent(AGENT, Agent.AuthMethod.PRIVATE_KEY_JWT, List.of("reader"));
            a.credential(AGENT, AgentCredential.Kind.JWKS, null, TestKeys.publicJwks(key));
            assertEquals(600, lifetime(b, key));
            assertEquals(201, register(b));

            Map<String, String> cred = JSON.readValue(dir.resolve("a/admin-credentials.json").toFile(), new TypeReference<>() {
            });
            String basic = Base64.getEncoder().encodeToString((cred.get("client_id") + ":" + cred.get("client_secret"))
                    .getBytes(StandardCharsets.UTF_8));
            HttpResponse<String> t = send(HttpRequest.newBuilder(URI.create(a.url() + "/admin/token"))
                    .header("Authorization", "Basic " + basic).header("Content-Type", "application/x-www-form-urlencoded")
                    .POST(HttpRequest.BodyPublishers.ofString("grant_type=client_credentials")));
            assertEquals(200, t.statusCode(), t.body());
            String admin = (String) json(t.body()).get("access_token");

            Map<String, String> files = new LinkedHashMap<>();
            files.put("tenant.yml", "display_name: Settlement\naccess_token_ttl: 2m\n");
            files.put("registration.yml", "open: false\n");
            files.put("policies/delegation.yml", """
                    delegation:
                      - id: reconciler-for-everyone
                        agents: [payments.settlement.reconciler]
                        users: {all: true}
                        resources: ["*"]
                    """);
            // issue 17: every kind of the tree, not only those three — a connector, a client, a trusted issuer
            files.put("connectors/corp-sso.yml", "id: corp-sso\ntype: oidc\nissuer: https://sso.corp.example\n"
                    + "client_id: deputy\nenabled: false\ndisplay_name: Corp SSO\n");
            files.put("clients/settlement-portal.yml", "client_id: settlement-portal\nname: Settlement portal\n"
                    + "redirect_uris: [http://127.0.0.1/cb]\ntoken_endpoint_auth_method: none\n");
            files.put("trust/workloads.yml", "issuer: https://workloads.corp.example\njwks_uri: https://workloads.corp.example/jwks\n"
                    + "grants: [jwt-bearer]\nsubjects: [\"spiffe://corp.example/ns/payments/*\"]\nscopes: [\"mcp:tool:ledger.read\"]\n");
            String body = JSON.writeValueAsString(Map.of("files", files,
                    "kinds", List.of("tenant", "registration", "policies", "connectors", "clients", "trust")));
            HttpResponse<String> plan = send(HttpRequest.newBuilder(URI.create(a.url() + "/admin/t/demo/apply?dry_run=true"))
                    .header("Authorization", "Bearer " + admin).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(body)));
            assertEquals(200, plan.statusCode(), plan.body());
            String text = (String) json(plan.body()).get("plan");
            assertTrue(text.contains("~ update tenant tenant") && text.contains("access_token_ttl: 10m -> 2m"), text);
            assertTrue(text.contains("+ create registration registration"), text);
            assertTrue(text.contains("+ create policy delegation"), text);
            assertTrue(text.contains("+ create connector corp-sso") && text.contains("+ create client settlement-portal")
                    && text.contains("+ create trust workloads"), text);
            assertEquals(600, lifetime(b, key), "a dry run changes nothing");

            HttpResponse<String> applied = send(HttpRequest.newBuilder(URI.create(a.url() + "/admin/t/demo/apply?dry_run=false"))
                    .header("Authorization", "Bearer " + admin).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(body)));
            assertEquals(200, applied.statusCode(), applied.body());
            assertEquals(true, json(applied.body()).get("applied"));

            eventually("the token lifetime", () -> {
                try {
                    return lifetime(b, key) == 120;
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            eventually("registration closed", () -> {
                try {
                    return register(b) == 403;
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            eventually("the connector on node B", () -> b.bean(dev.deputy.broker.federation.TenantConnectors.class)
                    .entry("demo", "corp-sso").isPresent());
            eventually("the trusted issuer on node B", () -> b.bean(dev.deputy.broker.federation.TrustedIssuers.class)
                    .find("demo", "https://workloads.corp.example").isPresent());
            HttpResponse<String> client = send(HttpRequest.newBuilder(URI.create(b.url() + "/admin/t/demo/clients/settlement-portal"))
                    .header("Authorization", "Bearer " + admin).GET());
            assertEquals(200, client.statusCode(), client.body());
            assertEquals("config", json(client.body()).get("managed_by"), client.body());
            HttpResponse<String> rules = send(HttpRequest.newBuilder(URI.create(b.url() + "/admin/t/demo/policies"))
                    .header("Authorization", "Bearer " + admin).GET());
            assertEquals(200, rules.statusCode(), rules.body());
            assertTrue(rules.body().contains("reconciler-for-everyone"), rules.body());
            assertEquals(120, lifetime(a, key));

            // the same files again: nothing to do
            plan = send(HttpRequest.newBuilder(URI.create(b.url() + "/admin/t/demo/apply?dry_run=true"))
                    .header("Authorization", "Bearer " + admin).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(body)));
            assertTrue(((String) json(plan.body()).get("plan")).contains("no changes"), plan.body());
        }
    }
}
