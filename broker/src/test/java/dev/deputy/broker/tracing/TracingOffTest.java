package dev.deputy.broker.tracing;

import dev.deputy.broker.ephemeral.EphemeralStore;
import dev.deputy.broker.testing.ConfigFixture;
import dev.deputy.broker.testing.TestBroker;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.trace.Tracer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

/**
 * The default: no OpenTelemetry SDK, no tracer, no wrapped store, the shared no-op step; an incoming traceparent
 * still names the correlation id, unless the W3C rules make it invalid.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TracingOffTest {
    @TempDir
    static Path tmp;
    TestBroker broker;

    @BeforeAll
    void start() throws Exception {
        Path config = ConfigFixture.copyOfShipped(Files.createDirectories(tmp.resolve("config")));
        broker = TestBroker.builder(tmp.resolve("data"), config).start();
    }

    @AfterAll
    void stop() {
        broker.close();
    }

    @Test
    void nothingIsBuiltWhenTracingIsOff() {
        assertFalse(broker.context().containsBean(OpenTelemetry.class));
        assertFalse(broker.context().containsBean(Tracer.class));
        Traces traces = broker.bean(Traces.class);
        assertFalse(traces.on());
        assertSame(Traces.Step.NONE, traces.step("deputy.token"));
        assertSame(Traces.Step.NONE, traces.client("redis GET"));
        assertNotEquals("TracedEphemeralStore", broker.bean(EphemeralStore.class).getClass().getSimpleName());
    }

    @Test
    void theTraceIdOfAValidTraceparentIsTheCorrelationIdAndAnInvalidOneIsIgnored() {
        String trace = "4bf92f3577b34da6a3ce929d0e0e4736";
        assertEquals(trace, correlation("00-" + trace + "-00f067aa0ba902b7-01"));
        // W3C Trace Context §3.2.2: all-zero ids and version ff are invalid
        String zeroTrace = "0".repeat(32);
        assertNotEquals(zeroTrace, correlation("00-" + zeroTrace + "-00f067aa0ba902b7-01"));
        assertNotEquals(trace, correlation("00-" + trace + "-" + "0".repeat(16) + "-01"));
        assertNotEquals(trace, correlation("ff-" + trace + "-00f067aa0ba902b7-01"));
        assertNotEquals(trace, correlation("00-" + trace.toUpperCase() + "-00f067aa0ba902b7-01"));
    }

    private String correlation(String traceparent) {
        HttpResponse<String> r = broker.send(HttpRequest.newBuilder(URI.create(broker.url() + "/.well-known/oauth-authorization-server"))
                .header("traceparent", traceparent).GET());
        return r.headers().firstValue("X-Correlation-Id").orElseThrow();
    }
}
