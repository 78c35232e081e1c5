package dev.deputy.broker.tracing;

import com.sun.net.httpserver.HttpServer;
import dev.deputy.broker.net.GuardedHttpClient;
import dev.deputy.broker.registration.SafeFetcher;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.context.Scope;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import javax.net.ssl.SSLContext;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * The broker's own outbound fetches (jwks_uri through {@link GuardedHttpClient}, CIMD through {@link SafeFetcher})
 * carry the W3C traceparent of the current span, and nothing when there is none (tracing off).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OutgoingTraceparentTest {
    HttpServer server;
    final List<String> seen = new CopyOnWriteArrayList<>();
    final SdkTracerProvider tracing = SdkTracerProvider.builder().build();

    @BeforeAll
    void start() throws Exception {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", ex -> {
            seen.add(ex.getRequestHeaders().getFirst("traceparent"));
            byte[] body = "{\"keys\":[]}".getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().set("Content-Type", "application/json");
            ex.sendResponseHeaders(200, body.length);
            ex.getResponseBody().write(body);
            ex.close();
        });
        server.start();
    }

    @AfterAll
    void stop() {
        server.stop(0);
        tracing.close();
    }

    URI url(String path) {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + path);
    }

    interface Fetch {
        void run() throws Exception;
    }

    String fetchUnderSpan(Fetch fetch, String[] traceAndSpan) throws Exception {
        seen.clear();
        Span span = tracing.get("test").spanBuilder("caller").startSpan();
        try (Scope ignored = span.makeCurrent()) {
            fetch.run();
        } finally {
            span.end();
        }
        traceAndSpan[0] = span.getSpanContext().getTraceId();
        traceAndSpan[1] = span.getSpanContext().getSpanId();
        return seen.get(0);
    }

    @Test
    void guardedHttpClientSendsTheCurrentTraceparent() throws Exception {
        try (GuardedHttpClient http = new GuardedHttpClient(GuardedHttpClient.SYSTEM_DNS, a -> true, SSLContext.getDefault(),
                Duration.ofSeconds(5), "test")) {
            String[] ids = new String[2];
            String header = fetchUnderSpan(() -> http.get(url("/jwks.json"), "application/json", 1000), ids);
            assertEquals("00-" + ids[0] + "-" + ids[1] + "-01", header);
            seen.clear();
            assertEquals(200, http.get(url("/jwks.json"), "application/json", 1000).status());
            assertNull(seen.get(0), "no current span, no traceparent");
        }
    }

    @Test
    void cimdFetchesSendTheCurrentTraceparent() throws Exception {
        SafeFetcher fetcher = new SafeFetcher(true, null, Duration.ofSeconds(5));
        String[] ids = new String[2];
        String header = fetchUnderSpan(() -> fetcher.get(url("/client.json")), ids);
        assertEquals("00-" + ids[0] + "-" + ids[1] + "-01", header);
        seen.clear();
        assertEquals(200, fetcher.get(url("/client.json")).status());
        assertNull(seen.get(0));
    }
}
