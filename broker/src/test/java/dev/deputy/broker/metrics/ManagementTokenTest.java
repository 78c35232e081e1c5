package dev.deputy.broker.metrics;

import dev.deputy.broker.http.ManagementAuth;
import dev.deputy.broker.oauth.AgentTestBroker;
import io.micronaut.runtime.server.EmbeddedServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 16: {@code DEPUTY_MANAGEMENT_TOKEN} closes {@code /prometheus} to anyone without the bearer token; the probes on
 * the HTTP listener stay open (a kubelet sends no secret); a short token is refused.
 */
class ManagementTokenTest {
    static final String TOKEN = "mgmt-4f1c0a9e7b2d4c58a1e3f6b7c9d0e2a4.scrape";
    static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @TempDir
    static Path dir;
    static AgentTestBroker broker;
    static int management;

    @BeforeAll
    static void start() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        broker = AgentTestBroker.builder(dir).property("endpoints.all.port", port)
                .property("endpoints.prometheus.enabled", true).property("deputy.management.token", TOKEN).start();
        EmbeddedServer server = broker.bean(EmbeddedServer.class);
        management = Scrape.managementPort(server, Set.of(server.getPort()));
    }

    @AfterAll
    static void stop() {
        if (broker != null) {
            broker.close();
        }
    }

    static HttpResponse<String> scrape(String authorization) throws Exception {
        HttpRequest.Builder r = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + management + "/prometheus"))
                .timeout(Duration.ofSeconds(10)).GET();
        if (authorization != null) {
            r.header("Authorization", authorization);
        }
        return HTTP.send(r.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void prometheusNeedsTheBearerToken() throws Exception {
        HttpResponse<String> none = scrape(null);
        assertEquals(401, none.statusCode());
        assertTrue(none.headers().firstValue("WWW-Authenticate").orElse("").startsWith("Bearer"), none.headers().toString());
        assertFalse(none.body().contains("deputy_"), "no metric without the token");
        for (String wrong : new String[]{"Bearer " + TOKEN + "x", "Bearer " + TOKEN.substring(1), "Basic " + TOKEN,
                "bearer", "Bearer ", TOKEN, "Bearer " + TOKEN.toUpperCase()}) {
            HttpResponse<String> r = scrape(wrong);
            assertEquals(401, r.statusCode(), wrong);
            assertTrue(r.headers().firstValue("WWW-Authenticate").orElse("").contains("invalid_token"), wrong);
        }
        HttpResponse<String> ok = scrape("Bearer " + TOKEN);
        assertEquals(200, ok.statusCode(), ok.body());
        assertTrue(ok.body().contains("deputy_ready"), "the metrics are served with the token");
    }

    @Test
    void probesOnTheHttpListenerStayOpen() {
        assertEquals(200, broker.get("/health/live").statusCode());
        assertEquals(200, broker.get("/health/ready").statusCode());
        // and the protocol endpoints never ask for it
        assertEquals(200, broker.get("/t/demo/.well-known/oauth-authorization-server").statusCode());
    }

    @Test
    void aWeakTokenIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new ManagementAuth("short"));
        assertTrue(e.getMessage().startsWith("DEPUTY_MANAGEMENT_TOKEN must be at least 32"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new ManagementAuth("x".repeat(20) + " with a space in it"));
        assertFalse(new ManagementAuth("").required());
        assertTrue(new ManagementAuth(TOKEN).required());
    }
}
