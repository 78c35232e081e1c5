package dev.deputy.broker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.deputy.broker.testing.ConfigFixture;
import dev.deputy.broker.testing.PrivateServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code DEPUTY_LOG_FORMAT} on a real broker process: {@code json} makes every line of its output one JSON object
 * (the start-up lines and the shutdown line included), with an access log line per request that names the method,
 * the path without its query, the status, the tenant and both ids; an unknown format is refused with exit 2.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class LogFormatProcessTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    Process launch(String format, int port, Path out) throws IOException {
        Path config = ConfigFixture.copyOfShipped(Files.createDirectories(tmp.resolve("config")));
        String java = ProcessHandle.current().info().command().orElse(System.getProperty("java.home") + "/bin/java");
        ProcessBuilder pb = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED", "-Xshare:auto",
                "-cp", System.getProperty("java.class.path"), Application.class.getName());
        Map<String, String> env = pb.environment();
        env.keySet().removeIf(k -> k.startsWith("DEPUTY_") && !k.startsWith("DEPUTY_TEST_"));
        env.put("DEPUTY_CONFIG_DIR", config.toString());
        env.put("DEPUTY_DATA_DIR", tmp.resolve("data").toString());
        env.put("DEPUTY_HTTP_PORT", Integer.toString(port));
        env.put("DEPUTY_HTTPS_PORT", "off");
        env.put("DEPUTY_LOG_FORMAT", format);
        env.put("DEPUTY_ACCESS_LOG", "true"); // off by default (docs/observability.md)
        return pb.redirectErrorStream(true).redirectOutput(out.toFile()).start();
    }

    @Test
    void jsonLinesWithAnAccessLog() throws Exception {
        int port = PrivateServer.sparePort();
        Path out = tmp.resolve("out.txt");
        Process p = launch("json", port, out);
        HttpResponse<String> r;
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
            while (!Files.readString(out).contains("issuer http://localhost:" + port + "/t/demo")) {
                assertTrue(p.isAlive(), "exited early:\n" + Files.readString(out));
                assertTrue(System.nanoTime() < deadline, "no issuer line:\n" + Files.readString(out));
                Thread.sleep(50);
            }
            try (HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build()) {
                r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/t/demo/token?code=query-must-not-be-logged"))
                                .header("X-Request-Id", "trace.dotted-id:42")
                                .header("Content-Type", "application/x-www-form-urlencoded")
                                .POST(HttpRequest.BodyPublishers.ofString("grant_type=client_credentials&client_id=no%20such%20client%20%C3%BC"))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
            }
            assertEquals(401, r.statusCode(), r.body());
        } finally {
            p.destroy();
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "did not stop");
        }
        String output = Files.readString(out);
        assertEquals(0, p.exitValue(), output);
        assertTrue(!output.contains("query-must-not-be-logged"), output);
        List<JsonNode> lines = new ArrayList<>();
        for (String line : output.split("\n")) {
            if (line.isBlank() || line.startsWith("WARNING: ")) { // the JVM's own warnings (native access) are not ours
                continue;
            }
            JsonNode n;
            try {
                n = JSON.readTree(line);
            } catch (IOException e) {
                throw new AssertionError("not a JSON line: " + line + "\n" + output);
            }
            assertTrue(n.isObject(), line);
            assertTrue(n.has("@timestamp") && n.has("level") && n.has("message") && n.has("logger_name"), line);
            assertEquals("deputy", n.path("service").asText(), line);
            lines.add(n);
        }
        assertTrue(lines.stream().anyMatch(n -> n.path("message").asText().startsWith("Deputy listening on http://")), output);
        assertTrue(lines.stream().anyMatch(n -> n.path("message").asText().startsWith("stopped cleanly")), output);
        JsonNode access = lines.stream().filter(n -> "deputy.access".equals(n.path("logger_name").asText())
                && "/t/demo/token".equals(n.path("path").asText())).findFirst().orElse(null);
        assertNotNull(access, output);
        assertEquals("POST", access.path("method").asText());
        assertEquals(401, access.path("status").asInt());
        assertEquals("demo", access.path("tenant").asText());
        assertEquals("trace.dotted-id:42", access.path("correlation_id").asText());
        assertEquals(r.headers().firstValue("X-Request-Id").orElseThrow(), access.path("request_id").asText());
        assertTrue(access.path("duration_ms").isNumber(), access.toString());
    }

    @Test
    void unknownFormatIsRefused() throws Exception {
        Path out = tmp.resolve("out.txt");
        Process p = launch("xml", PrivateServer.sparePort(), out);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "did not exit");
        String output = Files.readString(out);
        assertEquals(2, p.exitValue(), output);
        assertTrue(output.contains("deputy: bad configuration: DEPUTY_LOG_FORMAT=xml: expected json or text"), output);
    }
}
