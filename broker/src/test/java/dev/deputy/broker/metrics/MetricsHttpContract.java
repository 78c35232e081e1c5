package dev.deputy.broker.metrics;

import com.nimbusds.jose.jwk.JWK;
import dev.deputy.broker.agent.Agent;
import dev.deputy.broker.agent.AgentCredential;
import dev.deputy.broker.audit.AuditCheckpoints;
import dev.deputy.broker.oauth.AgentTestBroker;
import dev.deputy.broker.oauth.TestKeys;
import dev.deputy.broker.token.AccessTokenSpec;
import dev.deputy.broker.token.AccessTokens;
import io.micronaut.runtime.server.EmbeddedServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import com.sun.net.httpserver.HttpServer;

import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Drives token flows (successes, refusals of each kind, token exchange allowed and denied), then scrapes the
 * management listener and asserts the named series with their labels and values. Subclasses choose the backend.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class MetricsHttpContract {
    static final String EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange";
    /** Dotted agent ids, long as allowed (Agent.ID): they must never become a label. */
    static final String AGENT = "agt.prod-files.v2." + "x".repeat(100);
    static final String OTHER_AGENT = "agt.other_7.eu-west";
    static final String USER_SUB = "00u1AbC+Ünïcode/ sub|42";

    Path dir;
    AgentTestBroker broker;
    /** An HTTP witness sink answering {@link #sinkStatus}. */
    HttpServer sink;
    final AtomicInteger sinkStatus = new AtomicInteger(204);
    int management;
    final Map<String, JWK> keys = new LinkedHashMap<>();

    /** The backend: properties added to the builder. */
    abstract AgentTestBroker.Builder backend(AgentTestBroker.Builder b) throws Exception;

    abstract String databaseBackend();

    @BeforeAll
    void start() throws Exception {
        dir = Files.createTempDirectory("deputy-metrics");
        Path config = dir.resolve("config");
        Files.createDirectories(config.resolve("tenants/demo/policies"));
        Files.writeString(config.resolve("broker.yml"), "private_key_jwt:\n  jwks_uri_allow_private: true\n");
        Files.writeString(config.resolve("tenants/demo/tenant.yml"), "display_name: Metrics\n");
        Files.writeString(config.resolve("tenants/demo/policies/delegation.yml"), """
                delegation:
                  - id: files-agents.for-everyone
                    agents: ["agt.prod-files.v2.%s"]
                    users: {all: true}
                    resources: ["*"]
                    scopes: ["*"]
                """.formatted("x".repeat(100)));
        // a free port picked now (Micronaut matches management routes by their configured port, so -1 cannot work)
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        sink = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        sink.createContext("/", ex -> {
            ex.getRequestBody().readAllBytes();
            ex.sendResponseHeaders(sinkStatus.get(), -1);
            ex.close();
        });
        sink.start();
        broker = backend(AgentTestBroker.builder(dir).configDir(config)
                .property("endpoints.all.port", port).property("endpoints.prometheus.enabled", true)
                // checkpoints only when a test asks (the lag is then deterministic)
                .property("deputy.audit.checkpoint-interval", "1h")
                // a credential in the sink URL must not reach a label
                .property("deputy.audit.witness.urls", "http://127.0.0.1:" + sink.getAddress().getPort()
                        + "/witness/s3cr3t-path?token=s3cr3t-query")).start();
        EmbeddedServer server = broker.bean(EmbeddedServer.class);
        management = Scrape.managementPort(server, Set.of(server.getPort()));
        assertEquals(port, management);
        broker.standardFixture();
        broker.role("files-all", List.of("files:read", "files:list", "files:write"), List.of());
        for (String id : List.of(AGENT, OTHER_AGENT)) {
            JWK k = TestKeys.ec();
            keys.put(id, k);
            broker.agent(id, Agent.AuthMethod.PRIVATE_KEY_JWT, List.of("files-all"));
            broker.credential(id, AgentCredential.Kind.JWKS, null, TestKeys.publicJwks(k));
        }
    }

    @AfterAll
    void stop() {
        if (broker != null) {
            broker.close();
        }
        if (sink != null) {
            sink.stop(0);
        }
    }

    Map<String, String> clientCredentials(String agent) {
        Map<String, String> form = new LinkedHashMap<>();
        form.put("grant_type", "client_credentials");
        form.put("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
        form.put("client_assertion", TestKeys.sign(keys.get(agent), TestKeys.claims(agent, broker.issuer()).build()));
        return form;
    }

    HttpResponse<String> exchange(String agent) {
        String user = broker.bean(AccessTokens.class).mint(new AccessTokenSpec("demo", USER_SUB, "https://idp.example.com/",
                List.of(), "mcp-client", "https://files.example.com/mcp", List.of("files:read"), null, null,
                Duration.ofMinutes(5), Map.of())).token();
        Map<String, String> form = clientCredentials(agent);
        form.put("grant_type", EXCHANGE);
        form.put("subject_token", user);
        form.put("subject_token_type", "urn:ietf:params:oauth:token-type:access_token");
        return broker.post("/t/demo/token", form);
    }

    static Map<String, String> labels(String... kv) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put(kv[i], kv[i + 1]);
        }
        return m;
    }

    @Test
    void tokenFlowsAreCountedByGrantMethodErrorAndTenant() {
        Scrape before = Scrape.of(management);
        for (int i = 0; i < 3; i++) {
            HttpResponse<String> r = broker.post("/t/demo/token", clientCredentials(AGENT));
            assertEquals(200, r.statusCode(), r.body());
        }
        // a replayed assertion: the client does not authenticate (RFC 7523 §3: jti used once)
        Map<String, String> once = clientCredentials(OTHER_AGENT);
        assertEquals(200, broker.post("/t/demo/token", once).statusCode());
        HttpResponse<String> replay = broker.post("/t/demo/token", once);
        assertEquals(401, replay.statusCode(), replay.body());
        // an assertion signed by another key
        Map<String, String> forged = clientCredentials(AGENT);
        forged.put("client_assertion", TestKeys.sign(TestKeys.ec(), TestKeys.claims(AGENT, broker.issuer()).build()));
        assertEquals(401, broker.post("/t/demo/token", forged).statusCode());
        // an unknown grant type, long and hostile: counted as "other", never as itself
        Map<String, String> odd = clientCredentials(AGENT);
        odd.put("grant_type", "urn:evil:grant/../" + "x".repeat(300) + " ü");
        assertEquals(400, broker.post("/t/demo/token", odd).statusCode());
        Map<String, String> missing = clientCredentials(AGENT);
        missing.remove("grant_type");
        assertEquals(400, broker.post("/t/demo/token", missing).statusCode());
        // an authenticated client asking for an unknown resource (RFC 8707 §2: invalid_target)
        Map<String, String> target = clientCredentials(AGENT);
        target.put("resource", "https://nowhere.example.com/mcp");
        HttpResponse<String> t = broker.post("/t/demo/token", target);
        assertEquals(400, t.statusCode(), t.body());

        Scrape after = Scrape.of(management);
        Map<String, String> issued = labels("tenant", "demo", "grant", "client_credentials", "method", "private_key_jwt");
        assertEquals(4.0, after.value("deputy_tokens_issued_total", issued)
                - before.sum("deputy_tokens_issued_total", issued));
        Map<String, String> unauth = labels("tenant", "demo", "grant", "client_credentials", "method", "unauthenticated",
                "error", "invalid_client");
        assertEquals(2.0, after.value("deputy_tokens_refused_total", unauth)
                - before.sum("deputy_tokens_refused_total", unauth));
        Map<String, String> other = labels("tenant", "demo", "grant", "other", "method", "unauthenticated",
                "error", "unsupported_grant_type");
        assertEquals(1.0, after.value("deputy_tokens_refused_total", other)
                - before.sum("deputy_tokens_refused_total", other));
        Map<String, String> none = labels("tenant", "demo", "grant", "missing", "error", "invalid_request");
        assertEquals(1.0, after.value("deputy_tokens_refused_total", none)
                - before.sum("deputy_tokens_refused_total", none));
        Map<String, String> invalidTarget = labels("tenant", "demo", "grant", "client_credentials",
                "method", "private_key_jwt", "error", "invalid_target");
        assertEquals(1.0, after.value("deputy_tokens_refused_total", invalidTarget)
                - before.sum("deputy_tokens_refused_total", invalidTarget));

        // latency per endpoint, by route template
        Map<String, String> ok = labels("uri", "/t/{tenant}/token", "method", "POST", "status", "200");
        assertEquals(4.0, after.value("http_server_requests_seconds_count", ok)
                - before.sum("http_server_requests_seconds_count", ok));
        assertEquals(4.0, after.value("http_server_requests_seconds_bucket", labels("uri", "/t/{tenant}/token",
                "status", "200", "le", "+Inf")) - before.sum("http_server_requests_seconds_bucket",
                labels("uri", "/t/{tenant}/token", "status", "200", "le", "+Inf")));
        assertTrue(after.value("http_server_requests_seconds_count", labels("uri", "/t/{tenant}/token", "status", "401")) >= 2);

        // bounded labels: no client id, no user, no raw grant type anywhere in the scrape
        for (String secretish : List.of("agt.prod-files", OTHER_AGENT, "urn:evil", " ü", "nowhere.example.com")) {
            assertFalse(after.text().contains(secretish), secretish + " leaked into a label");
        }
    }

    @Test
    void exchangeDecisionsAreCountedByRule() {
        Scrape before = Scrape.of(management);
        HttpResponse<String> allowed = exchange(AGENT);
        assertEquals(200, allowed.statusCode(), allowed.body());
        HttpResponse<String> denied = exchange(OTHER_AGENT);
        assertEquals(400, denied.statusCode(), denied.body());
        Scrape after = Scrape.of(management);
        Map<String, String> allow = labels("tenant", "demo", "rule", "files-agents.for-everyone", "decision", "allow");
        assertEquals(1.0, after.value("deputy_token_exchange_decisions_total", allow)
                - before.sum("deputy_token_exchange_decisions_total", allow));
        Map<String, String> deny = labels("tenant", "demo", "rule", "default-deny", "decision", "deny");
        assertEquals(1.0, after.value("deputy_token_exchange_decisions_total", deny)
                - before.sum("deputy_token_exchange_decisions_total", deny));
        Map<String, String> exchanged = labels("tenant", "demo", "grant", EXCHANGE, "method", "private_key_jwt");
        assertEquals(1.0, after.value("deputy_tokens_issued_total", exchanged)
                - before.sum("deputy_tokens_issued_total", exchanged));
        Map<String, String> refused = labels("tenant", "demo", "grant", EXCHANGE, "method", "private_key_jwt",
                "error", "invalid_grant");
        assertEquals(1.0, after.value("deputy_tokens_refused_total", refused)
                - before.sum("deputy_tokens_refused_total", refused));
    }

    @Test
    void auditCheckpointLagAndPoolsAndDependencies() throws Exception {
        assertEquals(200, broker.post("/t/demo/token", clientCredentials(AGENT)).statusCode());
        Scrape s = Scrape.of(management);
        Map<String, String> demo = labels("tenant", "demo");
        assertTrue(s.value("deputy_audit_append_seconds_count", demo) >= 1);
        assertTrue(s.value("deputy_audit_batch_size_count", demo) >= 1);
        assertTrue(s.value("deputy_audit_batch_size_sum", demo) >= s.value("deputy_audit_batch_size_count", demo));
        assertEquals(1.0, s.value("deputy_audit_batch_size_bucket", labels("tenant", "demo", "le", "512.0"))
                / s.value("deputy_audit_batch_size_count", demo), "every batch holds at most 512 entries");
        assertEquals(0.0, s.value("deputy_audit_write_failures_total", demo));

        // entries wait for a checkpoint; once one is signed at the head, the lag falls to 0
        waitFor(() -> Scrape.of(management).value("deputy_audit_checkpoint_lag_entries", demo) > 0, "lag > 0");
        broker.bean(AuditCheckpoints.class).checkpoint("demo");
        waitFor(() -> {
            Scrape x = Scrape.of(management);
            return x.value("deputy_audit_checkpoint_lag_entries", demo) == 0
                    && x.value("deputy_audit_checkpoint_lag_seconds", demo) == 0;
        }, "lag back to 0 after a checkpoint");

        s = Scrape.of(management);
        assertEquals(1.0, s.value("deputy_ready", Map.of()));
        assertEquals(0.0, s.value("deputy_integrity_failed_rows_total", Map.of()));
        assertEquals(0.0, s.value("deputy_draining", Map.of()));
        // the scrape itself is a request in flight on the management listener
        assertTrue(s.value("deputy_http_requests_in_flight", Map.of()) >= 0);
        assertEquals(1.0, s.value("deputy_dependency_up", labels("dependency", "database", "backend", databaseBackend())));
        assertEquals(1.0, s.value("deputy_dependency_up", labels("dependency", "ephemeral")));
        assertTrue(s.value("hikaricp_connections_max", labels("pool", "deputy-db")) >= 1);
        // the heap's pools together (one pool alone may hold nothing at the scrape: eden right after a collection)
        assertTrue(s.series("jvm_memory_used_bytes", labels("area", "heap")).size() >= 2);
        assertTrue(s.sum("jvm_memory_used_bytes", labels("area", "heap")) > 0);
        assertTrue(s.names().contains("jvm_threads_live_threads"));
        assertTrue(s.names().contains("process_cpu_usage"));
    }

    @Test
    void witnessSinkLagPendingAndDelivered() throws Exception {
        String label = "1:127.0.0.1:" + sink.getAddress().getPort();
        Map<String, String> bySink = labels("sink", label);
        assertEquals(0.0, Scrape.of(management).value("deputy_audit_chains_refused", Map.of()));
        sinkStatus.set(503);
        double delivered;
        try {
            assertEquals(200, broker.post("/t/demo/token", clientCredentials(AGENT)).statusCode());
            broker.bean(AuditCheckpoints.class).checkpoint("demo");
            // the sink refuses: the checkpoint waits, and its wait shows
            waitFor(() -> {
                Scrape x = Scrape.of(management);
                return x.value("deputy_audit_witness_pending", bySink) >= 1
                        && x.value("deputy_audit_witness_lag_seconds", bySink) > 0;
            }, "a pending checkpoint with a lag");
            // read while the sink still refuses: nothing can be delivered yet, so the count cannot move under us
            // (read after the sink recovers, a retry landing in between left the count already past it)
            delivered = Scrape.of(management).value("deputy_audit_witness_delivered_total", bySink);
        } finally {
            sinkStatus.set(204);
        }
        double before = delivered;
        // the sender retries with a backoff doubling to 60 s, so the recovery may wait a full minute
        waitFor(Duration.ofSeconds(150), () -> {
            Scrape x = Scrape.of(management);
            return x.value("deputy_audit_witness_pending", bySink) == 0
                    && x.value("deputy_audit_witness_lag_seconds", bySink) == 0
                    && x.value("deputy_audit_witness_delivered_total", bySink) > before;
        }, "delivered after the sink recovered");
        String text = Scrape.of(management).text();
        assertFalse(text.contains("s3cr3t"), "the sink URL's path or query reached a label");
    }

    @Test
    void metricsAreServedOnTheManagementListenerOnly() {
        assertEquals(404, broker.get("/prometheus").statusCode(), "never on the public listener");
        HttpResponse<String> r = Scrape.get(management, "/prometheus");
        assertEquals(200, r.statusCode());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("text/plain"), r.headers().toString());
        assertEquals(404, Scrape.get(management, "/t/demo/.well-known/oauth-authorization-server").statusCode(),
                "the management listener serves no protocol endpoint");
    }

    interface Condition {
        boolean met() throws Exception;
    }

    /** Waits for a condition (the lag gauges are re-read from the store at most every 5 s). */
    static void waitFor(Condition c, String what) throws Exception {
        waitFor(Duration.ofSeconds(60), c, what);
    }

    static void waitFor(Duration limit, Condition c, String what) throws Exception {
        long deadline = System.nanoTime() + limit.toNanos();
        while (!c.met()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(200);
        }
    }
}
