package dev.deputy.broker.metrics;

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
}
