package dev.deputy.broker.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.deputy.broker.testing.ConfigFixture;
import dev.deputy.broker.testing.TestBroker;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Malformed, hostile or oversized requests get RFC 6749 §5.2 JSON with the right status; never a stack
 * trace, never a 500. An unexpected exception inside the broker is {@code server_error} without details.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ErrorRenderingHttpTest {
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path tmp;
    TestBroker broker;

    @BeforeAll
    void start() throws Exception {
        Path config = ConfigFixture.copyOfShipped(Files.createDirectories(tmp.resolve("config")));
        broker = TestBroker.builder(tmp.resolve("data"), config).testControllers().start();
    }

    @AfterAll
    void stop() {
        if (broker != null) {
            broker.close();
        }
    }

    /** Asserts an OAuth error body and returns it. */
    static JsonNode oauthError(HttpResponse<String> r, int status, String error) throws IOException {
        assertEquals(status, r.statusCode(), r.body());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("application/json"), r.headers().toString());
        assertEquals("no-store", r.headers().firstValue("Cache-Control").orElse(""));
        assertNoLeak(r.body());
        JsonNode body = JSON.readTree(r.body());
        assertEquals(error, body.get("error").asText(), r.body());
        return body;
    }

    static void assertNoLeak(String body) {
        for (String s : new String[]{"Exception", "\tat ", "at dev.deputy", "at io.micronaut", "hunter2", "_links", "_embedded"}) {
            assertFalse(body.contains(s), "response leaks '" + s + "': " + body);
        }
    }

    @Test
    void unknownPathIsJson404() throws Exception {
        oauthError(broker.get("/no/such/path"), 404, "not_found");
        oauthError(broker.get("/t/demo/no-such-endpoint"), 404, "not_found");
        oauthError(broker.get("/t/demo/token"), 405, "invalid_request");   // the token endpoint takes POST only
    }

    @Test
    void wrongMethodIsJson405() throws Exception {
        HttpResponse<String> r = broker.post("/.well-known/oauth-authorization-server/t/demo", "application/json", "{}");
        oauthError(r, 405, "invalid_request");
    }

    @Test
    void oversizedBodyIs413Json() throws Exception {
        String big = "x".repeat(2 * 1024 * 1024);   // micronaut.server.max-request-size is 1MB
        HttpResponse<String> r = broker.post("/test/json", "application/json", "{\"a\":\"" + big + "\"}");
        assertTrue(r.statusCode() == 413 || r.statusCode() == 400, "status " + r.statusCode());
        oauthError(r, r.statusCode(), "invalid_request");
        // on a path that does not exist, too
        HttpResponse<String> r2 = broker.post("/t/demo/token", "application/x-www-form-urlencoded", "a=" + big);
        assertTrue(r2.statusCode() == 413 || r2.statusCode() == 400 || r2.statusCode() == 404, "status " + r2.statusCode());
        assertNoLeak(r2.body());
    }

    @Test
    void malformedJsonIs400() throws Exception {
        oauthError(broker.post("/test/json", "application/json", "{\"a\": [1, 2"), 400, "invalid_request");
        oauthError(broker.post("/test/json", "application/json", "not json at all"), 400, "invalid_request");
    }

    @Test
    void wrongContentTypeIs415() throws Exception {
        oauthError(broker.post("/test/json", "application/xml", "<a/>"), 415, "invalid_request");
    }

    @Test
    void unconvertibleParameterIs400() throws Exception {
        JsonNode body = oauthError(broker.get("/test/number?n=abc"), 400, "invalid_request");
        assertTrue(body.get("error_description").asText().contains("n"), body.toString());
        oauthError(broker.get("/test/number"), 400, "invalid_request");   // missing
    }

    @Test
    void invalidClientIs401() throws Exception {
        JsonNode body = oauthError(broker.get("/test/invalid-client"), 401, "invalid_client");
        assertEquals("client authentication failed", body.get("error_description").asText());
    }

    @Test
    void unexpectedFailureIsServerErrorWithoutDetails() throws Exception {
        JsonNode body = oauthError(broker.get("/test/boom"), 500, "server_error");
        assertEquals("unexpected error", body.get("error_description").asText());
    }

    @Test
    void hostilePathsAreClean() throws Exception {
        for (String path : new String[]{"/t/%2e%2e/jwks.json", "/t/..%2f..%2fetc%2fpasswd/jwks.json",
                "/.well-known/oauth-authorization-server/t/%00", "/t/" + "a".repeat(2000) + "/jwks.json",
                "/t/demo/jwks.json/../../health"}) {
            HttpResponse<String> r = broker.send(HttpRequest.newBuilder(URI.create(broker.url() + path)).GET());
            assertNotEquals(500, r.statusCode(), path + " -> " + r.body());
            assertNoLeak(r.body());
        }
    }

    @Test
    void garbageRequestLineGetsNoStackTrace() throws Exception {
        try (Socket s = new Socket("127.0.0.1", broker.port())) {
            s.setSoTimeout(2_000);
            OutputStream out = s.getOutputStream();
            out.write("BLAH /\u0000\u0001 HTTP/9.9\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            InputStream in = s.getInputStream();
            java.io.ByteArrayOutputStream got = new java.io.ByteArrayOutputStream();
            byte[] buf = new byte[4096];
            try {
                for (int n; (n = in.read(buf)) > 0 && got.size() < 65536; ) {
                    got.write(buf, 0, n);
                }
            } catch (java.net.SocketTimeoutException | java.net.SocketException endOfAnswer) {
                // the server may keep the connection open or reset it: what it sent is what counts
            }
            String response = got.toString(StandardCharsets.ISO_8859_1);
            assertFalse(response.startsWith("HTTP/1.1 500"), response);
            assertNoLeak(response);
        }
    }

    @Test
    void requestIdsAreEchoed() {
        HttpResponse<String> r = broker.send(HttpRequest.newBuilder(URI.create(broker.url() + "/health"))
                .header("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01").GET());
        assertEquals("4bf92f3577b34da6a3ce929d0e0e4736", r.headers().firstValue("X-Correlation-Id").orElse(null));
        assertTrue(r.headers().firstValue("X-Request-Id").isPresent());
        HttpResponse<String> r2 = broker.send(HttpRequest.newBuilder(URI.create(broker.url() + "/health"))
                .header("X-Request-Id", "bad id with spaces\u00e9").GET());
        assertNotEquals("bad id with spaces\u00e9", r2.headers().firstValue("X-Correlation-Id").orElse(null));
    }
}
