package dev.deputy.broker.audit;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.deputy.broker.token.AccessTokenSpec;
import dev.deputy.broker.token.AccessTokens;
import dev.deputy.broker.token.MintedToken;
import dev.deputy.broker.token.Revocations;
import dev.deputy.broker.agent.Agent;
import dev.deputy.broker.agent.AgentChanges;
import dev.deputy.broker.agent.AgentStore;
import io.micronaut.runtime.server.EmbeddedServer;
import io.micronaut.test.extensions.junit5.annotation.MicronautTest;
import io.micronaut.test.support.TestPropertyProvider;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The audit HTTP surface on the embedded default (H2): admin API, SSE, tool-call reports, and the CLI over it. */
@MicronautTest
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AuditHttpTest implements TestPropertyProvider {
    static final String T = "acme";
    static final HttpClient HTTP = HttpClient.newHttpClient();

    @Inject
    EmbeddedServer server;
    @Inject
    AuditLog log;
    @Inject
    AccessTokens tokens;
    @Inject
    AuditStore store;
    @Inject
    AgentStore agentStore;
    @Inject
    AgentChanges changes;
    @Inject
    Revocations revocations;

    Path data;

    @Override
    public Map<String, String> getProperties() {
        try {
            data = Files.createTempDirectory("deputy-audit-http");
            Path config = Files.createTempDirectory("deputy-audit-config");
            Files.createDirectories(config.resolve("tenants/" + T));
            Files.writeString(config.resolve("broker.yml"), "default_tenant: acme\n");
            Files.writeString(config.resolve("tenants/" + T + "/tenant.yml"), "display_name: Acme\n");
            return Map.of("deputy.data-dir", data.toString(), "deputy.config-dir", config.toString(),
                    "deputy.mysql.url", "", "deputy.redis.uri", "");
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    String base() {
        return "http://localhost:" + server.getPort();
    }

    String adminToken() throws Exception {
        Map<String, Object> cred = AuditJson.MAPPER.readValue(data.resolve("admin-credentials.json").toFile(), new TypeReference<>() {
        });
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(base() + "/admin/token"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("grant_type=client_credentials&client_id=admin&client_secret="
                        + cred.get("client_secret"))).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        return (String) json(r.body()).get("access_token");
    }

    static Map<String, Object> json(String s) throws Exception {
        return AuditJson.MAPPER.readValue(s, new TypeReference<>() {
        });
    }

    HttpResponse<String> admin(String token, String pathAndQuery) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(base() + "/admin/t/" + T + "/audit" + pathAndQuery))
                .header("Authorization", "Bearer " + token).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void adminApiNeedsAnAdminToken() throws Exception {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(base() + "/admin/t/" + T + "/audit/verify"))
                .GET().build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(401, r.statusCode());
        HttpResponse<String> unknown = HTTP.send(HttpRequest.newBuilder(URI.create(base() + "/admin/t/nope/audit/verify"))
                .header("Authorization", "Bearer " + adminToken()).GET().build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(404, unknown.statusCode(), unknown.body());
    }

    @Test
    void toolCallIsLinkedToTheTokensSubjectActorsClientAndCorrelation() throws Exception {
        agent("agt_b");
        agent("agt_a");
        String at = tokens.mint(new AccessTokenSpec(T, "248289761001", "https://idp.example.com",
                List.of("agt_b", "agt_a"), "mcp-client-1", "https://mcp.example.com", List.of("files:read"),
                null, null, Duration.ofMinutes(5), Map.of())).token();
        String trace = "4bf92f3577b34da6a3ce929d0e0e4736";
        Map<String, String> form = reporter();
        form.put("token", at);
        form.put("tool", "search_files");
        form.put("arguments_sha256", "ab".repeat(32));
        form.put("status", "ok");
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(base() + "/t/" + T + "/audit/tool-calls"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .header("traceparent", "00-" + trace + "-00f067aa0ba902b7-01")
                .POST(HttpRequest.BodyPublishers.ofString(dev.deputy.broker.oauth.AgentTestBroker.form(form))).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(201, r.statusCode(), r.body());
        assertEquals(trace, json(r.body()).get("correlation_id"));
        String admin = adminToken();
        Map<String, Object> page = json(admin(admin, "/entries?correlation_id=" + trace).body());
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> entries = (List<Map<String, Object>>) page.get("entries");
        assertEquals(1, entries.size());
        Map<String, Object> e = entries.get(0);
        assertEquals(EventTypes.TOOL_CALL, e.get("type"));
        assertEquals("success", e.get("outcome"));
        assertEquals("248289761001", e.get("subject"));
        assertEquals("https://idp.example.com", e.get("subject_iss"));
        assertEquals(List.of("agt_b", "agt_a"), e.get("actor_chain"));
        assertEquals("agt_b", e.get("agent_id"));
        assertEquals("mcp-client-1", e.get("client_id"));
        assertEquals("https://mcp.example.com", e.get("resource"));
        assertTrue(e.get("details").toString().contains("search_files"));
        // found by agent anywhere in the chain
        assertTrue(admin(admin, "/entries?agent=agt_a&type=tool.call").body().contains("search_files"));

        // no reporter authentication, no token, a forged token, a bad body
        HttpResponse<String> anonymous = postForm(Map.of("token", at, "tool", "x", "status", "ok"));
        assertEquals(401, anonymous.statusCode(), anonymous.body());
        assertTrue(anonymous.headers().firstValue("WWW-Authenticate").isPresent());
        Map<String, String> noToken = reporter();
        noToken.put("tool", "x");
        noToken.put("status", "ok");
        assertEquals(400, postForm(noToken).statusCode());
        String forged = at.substring(0, at.lastIndexOf('.') + 1) + "AAAA" + at.substring(at.lastIndexOf('.') + 5);
        HttpResponse<String> bad = report(forged, "x");
        assertEquals(400, bad.statusCode());
        assertEquals("invalid_token", json(bad.body()).get("error"));
        Map<String, String> maybe = reporter();
        maybe.put("token", at);
        maybe.put("tool", "x");
        maybe.put("status", "maybe");
        HttpResponse<String> badBody = postForm(maybe);
        assertEquals(400, badBody.statusCode());
        assertEquals("invalid_request", json(badBody.body()).get("error"));
    }

    void agent(String id) {
        long now = System.currentTimeMillis();
        agentStore.saveAgent(new Agent(T, id, id, null, "prod", List.of(), Map.of(), Agent.Status.ACTIVE,
                Agent.AuthMethod.PRIVATE_KEY_JWT, "api", now, now, null, null));
        changes.changed(T, id);
    }

    static final com.nimbusds.jose.jwk.JWK REPORTER_KEY = dev.deputy.broker.oauth.TestKeys.ec();

    /** The reporting resource server's client authentication (a private_key_jwt agent, created once). */
    Map<String, String> reporter() {
        if (agentStore.findAgent(T, "mcp.reporter").isEmpty()) {
            agent("mcp.reporter");
            long now = System.currentTimeMillis();
            agentStore.saveCredential(new dev.deputy.broker.agent.AgentCredential(T, "cred_reporter", "mcp.reporter",
                    dev.deputy.broker.agent.AgentCredential.Kind.JWKS, null, null,
                    dev.deputy.broker.oauth.TestKeys.publicJwks(REPORTER_KEY), null, null, null,
                    dev.deputy.broker.agent.AgentCredential.Status.ACTIVE, now));
            changes.changed(T, "mcp.reporter");
        }
        Map<String, String> form = new java.util.LinkedHashMap<>();
        form.put("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
        form.put("client_assertion", dev.deputy.broker.oauth.TestKeys.sign(REPORTER_KEY,
                dev.deputy.broker.oauth.TestKeys.claims("mcp.reporter", base() + "/t/" + T).build()));
        return form;
    }

    HttpResponse<String> postForm(Map<String, String> form) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(base() + "/t/" + T + "/audit/tool-calls"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(dev.deputy.broker.oauth.AgentTestBroker.form(form))).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> report(String token, String tool) throws Exception {
        Map<String, String> form = reporter();
        form.put("token", token);
        form.put("tool", tool);
        form.put("status", "ok");
        return postForm(form);
    }

    AuditEntry lastOf(String type) {
        List<AuditEntry> all = store.range(T, 0, 100_000);
        for (int i = all.size() - 1; i >= 0; i--) {
            if (all.get(i).type().equals(type)) {
                return all.get(i);
            }
        }
        throw new AssertionError("no " + type);
    }

    /** RFC 6750 §3.1: a report under a revoked token, or a token naming a suspended/revoked agent, is invalid_token. */
    @Test
    void toolCallUnderARevokedTokenOrAnInactiveAgentIsRefusedAndAudited() throws Exception {
        agent("agt_rev");
        MintedToken minted = tokens.mint(new AccessTokenSpec(T, "user-rev", "https://idp.example.com", List.of("agt_rev"),
                "mcp-client-1", "https://mcp.example.com", List.of("files:read"), null, null, Duration.ofMinutes(5), Map.of()));
        assertEquals(201, report(minted.token(), "before_revocation").statusCode());

        revocations.revoke(T, minted.jti(), minted.expiresAt());
        HttpResponse<String> r = report(minted.token(), "after_revocation");
        assertEquals(400, r.statusCode(), r.body());
        assertEquals("invalid_token", json(r.body()).get("error"));
        AuditEntry e = lastOf(EventTypes.TOOL_CALL_REJECTED);
        assertEquals("failure", e.outcome());
        assertEquals("user-rev", e.subject());
        assertEquals("agt_rev", e.agentId());
        assertEquals("mcp-client-1", e.clientId());
        Map<String, Object> d = json(e.details());
        assertEquals("revoked", d.get("reason"));
        assertEquals(minted.jti(), d.get("token_jti"));
        assertEquals("after_revocation", d.get("tool"));
        assertFalse(e.details().contains(minted.token().substring(0, 20)), "never the token");
        assertTrue(store.range(T, 0, 100_000).stream().noneMatch(x -> x.type().equals(EventTypes.TOOL_CALL)
                && x.details().contains("after_revocation")), "not recorded as a tool call");

        // a token of an agent that is suspended (then revoked) afterwards
        agent("agt_sus");
        String t2 = tokens.mint(new AccessTokenSpec(T, "agt_sus", null, List.of(), "agt_sus", "https://mcp.example.com",
                List.of("files:read"), null, null, Duration.ofMinutes(5), Map.of())).token();
        assertEquals(201, report(t2, "while_active").statusCode());
        Agent a = agentStore.findAgent(T, "agt_sus").orElseThrow();
        agentStore.saveAgent(a.withStatus(Agent.Status.SUSPENDED, System.currentTimeMillis()));
        changes.changed(T, "agt_sus");
        HttpResponse<String> s = report(t2, "while_suspended");
        assertEquals(400, s.statusCode(), s.body());
        assertEquals("invalid_token", json(s.body()).get("error"));
        assertEquals("agent_suspended", json(lastOf(EventTypes.TOOL_CALL_REJECTED).details()).get("reason"));
        agentStore.saveAgent(a.withStatus(Agent.Status.REVOKED, System.currentTimeMillis()));
        changes.changed(T, "agt_sus");
        assertEquals(400, report(t2, "while_revoked").statusCode());
        assertEquals("agent_revoked", json(lastOf(EventTypes.TOOL_CALL_REJECTED).details()).get("reason"));

        // a forged token is refused and audited without any of its claims
        String forged = minted.token().substring(0, minted.token().lastIndexOf('.') + 1) + "AAAA";
        assertEquals(400, report(forged, "forged").statusCode());
        AuditEntry f = lastOf(EventTypes.TOOL_CALL_REJECTED);
        assertEquals("bad_signature", json(f.details()).get("reason"));
        assertEquals("mcp.reporter", json(f.details()).get("reporter"));
        assertEquals(null, f.subject());
    }

    /** The broker's own chain (_broker: admin sign-ins) has checkpoints signed by the broker key, like a tenant's. */
    @Test
    void brokerChainHasSignedCheckpointsThatVerifyOnlineAndOffline() throws Exception {
        String admin = adminToken(); // one more admin.token.issue entry in _broker
        HttpResponse<String> made = HTTP.send(HttpRequest.newBuilder(URI.create(base() + "/admin/t/_broker/audit/checkpoints"))
                .header("Authorization", "Bearer " + admin).POST(HttpRequest.BodyPublishers.noBody()).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(201, made.statusCode(), made.body());
        Map<String, Object> cp = json(made.body());
        String kid = (String) cp.get("kid");
        assertNotNull(kid);
        HttpResponse<String> jwks = HTTP.send(HttpRequest.newBuilder(URI.create(base() + "/admin/t/_broker/audit/jwks"))
                .header("Authorization", "Bearer " + admin).GET().build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, jwks.statusCode(), jwks.body());
        assertTrue(jwks.body().contains("\"" + kid + "\""), jwks.body());
        assertFalse(jwks.body().contains("\"d\""), "public keys only");
        // the broker key is not any tenant's key
        assertFalse(admin(admin, "/jwks").body().contains("\"" + kid + "\""));

        HttpResponse<String> v = HTTP.send(HttpRequest.newBuilder(URI.create(base() + "/admin/t/_broker/audit/verify"))
                .header("Authorization", "Bearer " + admin).GET().build(), HttpResponse.BodyHandlers.ofString());
        Map<String, Object> report = json(v.body());
        assertEquals(true, report.get("ok"), v.body());
        assertTrue(((Number) report.get("checkpoints_verified")).intValue() >= 1, v.body());

        HttpResponse<String> export = HTTP.send(HttpRequest.newBuilder(URI.create(base() + "/admin/t/_broker/audit/export?from=1"))
                .header("Authorization", "Bearer " + admin).GET().build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, export.statusCode(), export.body());
        assertTrue(OfflineVerifier.verify(new java.io.StringReader(export.body()), jwks.body()).ok(), export.body());
        // a forged checkpoint signature is caught
        String forged = export.body().replaceFirst("(\"jws\":\"[^\"]+\\.)[A-Za-z0-9_-]{4}", "$1AAAA");
        assertFalse(OfflineVerifier.verify(new java.io.StringReader(forged), jwks.body()).ok());
    }

    @Test
    void sseDeliversNewEntriesAndResumesAfterLastEventId() throws Exception {
        String admin = adminToken();
        BlockingQueue<String[]> got = new ArrayBlockingQueue<>(100);
        Thread reader = followStream(admin, null, got);
        Thread.sleep(500);
        List<Long> appended = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            appended.add(log.append(AuditEvent.of(T, EventTypes.AGENT_CREATED, AuditEvent.Outcome.SUCCESS)
                    .agent("agt_sse" + i).build()).seq());
        }
        List<Long> ids = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            String[] ev = got.poll(10, TimeUnit.SECONDS);
            assertNotNull(ev, "SSE event " + i + " did not arrive");
            ids.add(Long.parseLong(ev[0]));
            assertTrue(ev[1].contains("agt_sse" + i), ev[1]);
        }
        assertEquals(appended, ids);
        reader.interrupt();
        // resume after the first one: the other two again
        BlockingQueue<String[]> again = new ArrayBlockingQueue<>(100);
        Thread r2 = followStream(admin, Long.toString(appended.get(0)), again);
        assertEquals(appended.get(1), Long.parseLong(again.poll(10, TimeUnit.SECONDS)[0]));
        assertEquals(appended.get(2), Long.parseLong(again.poll(10, TimeUnit.SECONDS)[0]));
        r2.interrupt();
    }

    Thread followStream(String admin, String lastEventId, BlockingQueue<String[]> out) {
        return Thread.ofVirtual().start(() -> {
            try {
                HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base() + "/admin/t/" + T + "/audit/stream"))
                        .header("Authorization", "Bearer " + admin).header("Accept", "text/event-stream");
                if (lastEventId != null) {
                    b.header("Last-Event-ID", lastEventId);
                }
                HttpResponse<java.io.InputStream> r = HTTP.send(b.GET().build(), HttpResponse.BodyHandlers.ofInputStream());
                try (BufferedReader br = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
                    String line;
                    String id = null;
                    String event = null;
                    while ((line = br.readLine()) != null && !Thread.currentThread().isInterrupted()) {
                        if (line.startsWith("id:")) {
                            id = line.substring(3).trim();
                        } else if (line.startsWith("event:")) {
                            event = line.substring(6).trim();
                        } else if (line.startsWith("data:") && "audit".equals(event)) {
                            out.add(new String[]{id, line.substring(5)});
                        } else if (line.isEmpty()) {
                            id = null;
                            event = null;
                        }
                    }
                }
            } catch (Exception ignored) {
                // interrupted or closed
            }
        });
    }
}
