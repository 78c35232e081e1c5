package dev.deputy.broker.metrics;

import dev.deputy.broker.oauth.TokenMetrics;
import dev.deputy.broker.testing.ConfigFixture;
import dev.deputy.broker.testing.TestBroker;
import io.micronaut.http.server.netty.NettyHttpServer;
import io.micronaut.runtime.server.EmbeddedServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Without {@code DEPUTY_MANAGEMENT_PORT} no management listener is opened and no management endpoint (metrics,
 * beans, routes, loggers, env...) answers on the public listener; the broker's own {@code /health} still does.
 */
class MetricsDefaultOffTest {
    @TempDir
    Path dir;

    @Test
    void noManagementListenerAndNoEndpointByDefault() {
        try (TestBroker b = TestBroker.builder(dir.resolve("data"), ConfigFixture.copyOfShipped(dir.resolve("config")))
                .start()) {
            NettyHttpServer server = (NettyHttpServer) b.bean(EmbeddedServer.class);
            assertEquals(Set.of(b.port()), server.getBoundPorts(), "one listener only");
            for (String p : List.of("/prometheus", "/metrics", "/beans", "/routes", "/loggers", "/env", "/threaddump",
                    "/info", "/refresh", "/stop")) {
                int status = b.get(p).statusCode();
                assertEquals(404, status, p + " answered " + status);
            }
            assertEquals(200, b.get("/health").statusCode());
            assertEquals("application/json", b.get("/health").headers().firstValue("Content-Type").orElse("")
                    .split(";")[0]);
        }
    }
    /**
     * What the start-up does without {@code DEPUTY_MANAGEMENT_PORT} ({@code Application.managementProperties("off")}):
     * no registry at all (nothing could scrape it), so no request pays for timers; the token endpoint still answers
     * and audits as always, reporting to the no-op {@link TokenMetrics}. With a port, the meters are on.
     */
    @Test
    void withoutAManagementPortNoMeterIsKept() throws Exception {
        assertEquals(java.util.Map.of("micronaut.metrics.enabled", false), dev.deputy.broker.Application.managementProperties("off"));
        assertEquals(java.util.Map.of("endpoints.all.port", "9090", "endpoints.prometheus.enabled", true),
                dev.deputy.broker.Application.managementProperties("9090"));
        TestBroker.Builder builder = TestBroker.builder(dir.resolve("data"), ConfigFixture.copyOfShipped(dir.resolve("config")));
        dev.deputy.broker.Application.managementProperties("off").forEach(builder::property);
        try (TestBroker b = builder.start()) {
            assertTrue(b.context().findBean(io.micrometer.core.instrument.MeterRegistry.class).isEmpty(), "no registry");
            assertTrue(b.context().findBean(HttpServerMeters.class).isEmpty(), "no per-request timer filter");
            assertSame(TokenMetrics.NONE, b.bean(TokenMetrics.class));
            var r = b.post("/t/demo/token", "application/x-www-form-urlencoded",
                    "grant_type=client_credentials&client_id=payments.settlement.reconciler");
            assertEquals(401, r.statusCode(), r.body());
            assertTrue(r.body().contains("\"invalid_client\""), r.body());
            assertEquals(200, b.get("/health").statusCode());
        }
    }
}
