package dev.deputy.broker.governance;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.jwk.JWK;
import com.sun.net.httpserver.HttpServer;
import dev.deputy.broker.agent.Agent;
import dev.deputy.broker.agent.AgentCredential;
import dev.deputy.broker.audit.AuditEntry;
import dev.deputy.broker.oauth.AgentTestBroker;
import dev.deputy.broker.oauth.AgentTestNodes;
import dev.deputy.broker.oauth.TestKeys;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.deputy.broker.oauth.AgentTestBroker.details;
import static dev.deputy.broker.oauth.AgentTestBroker.json;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Anomaly response on the production wiring: two broker nodes on one MariaDB database and one Redis prefix. A
 * refusal burst sent to node A fires the tenant's rule; the agent is suspended through the admin lifecycle path
 * (agent.suspended naming anomaly:&lt;rule&gt;), node B refuses the agent's next token request within a second, and
 * the signed alert reaches the webhook (after one failed delivery, retried).
 */
class AnomalyMultiNodeTest {
    static final String AGENT = "payments.settlement.reconciler";
    static final String SECRET_ENV = "DEPUTY_TEST_ANOMALY_HOOK_" + UUID.randomUUID().toString().substring(0, 8).toUpperCase()
            .replace('-', '_');
    static final String SECRET = "hook-secret-" + UUID.randomUUID();
    static final ObjectMapper JSON = new ObjectMapper();
    @TempDir
    static Path dir;
    static AgentTestNodes nodes;
    static AgentTestBroker a;
    static AgentTestBroker b;
    static HttpServer hook;
    static final List<String[]> deliveries = new CopyOnWriteArrayList<>(); // {signature header, body}
    static final AtomicInteger hookCalls = new AtomicInteger();

    @BeforeAll
    static void start() throws Exception {
        hook = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        hook.createContext("/hook", ex -> {
            byte[] body = ex.getRequestBody().readAllBytes();
            deliveries.add(new String[]{ex.getRequestHeaders().getFirst("Deputy-Signature"),
                    new String(body, StandardCharsets.UTF_8)});
            // the first delivery fails: the broker must retry
            ex.sendResponseHeaders(hookCalls.incrementAndGet() == 1 ? 503 : 204, -1);
            ex.close();
        });
        hook.start();
        System.setProperty(SECRET_ENV, SECRET);
        Path config = AgentTestNodes.config(dir, """
                display_name: Demo
                anomaly:
                  webhook:
                    url: http://127.0.0.1:%d/hook
                    secret_env: %s
                    max_attempts: 3
                  rules:
                    - id: refusal-burst
                      kind: refusal_burst
                      count: 5
                      within: 1m
                      agents: [%s]
                      actions: [alert, suspend]
                """.formatted(hook.getAddress().getPort(), SECRET_ENV, AGENT));
        nodes = AgentTestNodes.start(2, dir, config);
        a = nodes.node(0);
        b = nodes.node(1);
        a.standardFixture();
    }

    @AfterAll
    static void stop() {
        if (nodes != null) {
            nodes.close();
        }
        if (hook != null) {
            hook.stop(0);
        }
        System.clearProperty(SECRET_ENV);
    }

    static Map<String, String> fresh(JWK k, String id) {
        return TestKeys.assertionForm(TestKeys.sign(k, TestKeys.claims(id, "http://deputy.test/t/demo").build()));
    }

    @Test
    void aRefusalBurstOnNodeASuspendsTheAgentOnNodeBWithinASecond() throws Exception {
        JWK k = TestKeys.ec();
        a.agent(AGENT, Agent.AuthMethod.PRIVATE_KEY_JWT, List.of("reader"));
        a.credential(AGENT, AgentCredential.Kind.JWKS, null, TestKeys.publicJwks(k));
        // B serves the agent (and caches it) before anything happens
        assertEquals(200, b.post("/t/demo/token", fresh(k, AGENT)).statusCode());

        // a replayed client assertion, five times on node A: five token.rejected entries naming the agent
        Map<String, String> used = fresh(k, AGENT);
        assertEquals(200, a.post("/t/demo/token", used).statusCode());
        for (int i = 1; i <= 4; i++) {
            HttpResponse<String> r = a.post("/t/demo/token", used);
            assertEquals(401, r.statusCode(), r.body());
        }
        HttpResponse<String> fifth = a.post("/t/demo/token", used);
        long triggered = System.nanoTime();
        assertEquals(401, fifth.statusCode(), fifth.body());

        // node B: the agent's next token request is refused within a second of the fifth refusal
        long deadline = triggered + 5_000_000_000L;
        HttpResponse<String> onB;
        long refusedAt; // when the refused request was sent: the agent was no longer served from then on
        while (true) {
            Map<String, String> next = fresh(k, AGENT);
            refusedAt = System.nanoTime();
            onB = b.post("/t/demo/token", next);
            if (onB.statusCode() != 200 || refusedAt > deadline) {
                break;
            }
        }
        assertEquals(401, onB.statusCode(), "node B still serves the agent after 5s: " + onB.body());
        assertEquals("invalid_client", json(onB).get("error"));
        long ms = (refusedAt - triggered) / 1_000_000;
        assertTrue(ms <= 1000, "node B refused the agent only after " + ms + " ms");

        // the suspension went through the lifecycle path, naming the rule
        AuditEntry suspended = b.lastAudit("agent.suspended");
        assertNotNull(suspended);
        assertEquals(AGENT, suspended.agentId());
        assertEquals("system:anomaly:refusal-burst", details(suspended).get("actor"));
        assertTrue(details(suspended).get("reason").toString().startsWith("anomaly:refusal-burst: 5 refusals within 1m"),
                details(suspended).toString());
        assertEquals(Agent.Status.SUSPENDED, a.agents().findAgent("demo", AGENT).orElseThrow().status());
        AuditEntry detected = a.lastAudit("anomaly.detected");
        assertEquals(AGENT, detected.agentId());
        Map<String, Object> d = details(detected);
        assertEquals("refusal-burst", d.get("rule"));
        assertEquals("refusal_burst", d.get("kind"));
        assertEquals(true, d.get("suspended"));
        assertEquals("token.rejected", d.get("trigger_type"));
        assertEquals(5, ((Number) d.get("count")).intValue());
        assertTrue(((Number) d.get("trigger_seq")).longValue() < detected.seq());

        // the webhook: one failed delivery, then the retry; both signed over "<t>.<body>" with the secret
        long hookDeadline = System.nanoTime() + 15_000_000_000L;
        while (deliveries.size() < 2 && System.nanoTime() < hookDeadline) {
            Thread.onSpinWait();
            java.util.concurrent.locks.LockSupport.parkNanos(20_000_000);
        }
        assertEquals(2, deliveries.size(), "a delivery and its retry");
        for (String[] del : deliveries) {
            String sig = del[0];
            assertNotNull(sig);
            long t = Long.parseLong(sig.substring(2, sig.indexOf(',')));
            assertEquals(AnomalyWebhook.signature(SECRET.getBytes(StandardCharsets.UTF_8), t, del[1]), sig);
            assertTrue(Math.abs(System.currentTimeMillis() / 1000 - t) < 60);
            Map<?, ?> body = JSON.readValue(del[1], Map.class);
            assertEquals("anomaly.detected", body.get("type"));
            assertEquals(AGENT, body.get("agent"));
            assertEquals("refusal-burst", body.get("rule"));
            assertEquals(true, body.get("suspended"));
            assertEquals(detected.seq(), ((Number) body.get("seq")).longValue());
            assertEquals(detected.hash(), body.get("entry_hash"));
            assertTrue(!del[1].contains(SECRET), "the secret is never in the body");
        }
        // a body altered in transit no longer matches its signature
        String[] first = deliveries.get(0);
        long t = Long.parseLong(first[0].substring(2, first[0].indexOf(',')));
        assertTrue(!AnomalyWebhook.signature(SECRET.getBytes(StandardCharsets.UTF_8), t,
                first[1].replace("\"suspended\":true", "\"suspended\":false")).equals(first[0]));
    }
}
