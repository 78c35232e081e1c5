package dev.deputy.broker;

import dev.deputy.broker.testing.ConfigFixture;
import dev.deputy.broker.testing.PrivateServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Probes and SIGTERM on a real broker process ({@link Application#main}): liveness and readiness apart; on SIGTERM
 * readiness fails first while the node still serves, a request in flight finishes, the audit is flushed and
 * checkpointed (the final log line names the checkpointed head, which covers the held request's entry) and the
 * process exits with 0.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class DrainProcessTest {
    @TempDir
    Path tmp;

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private HttpResponse<String> get(int port, String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static void await(String what, Process p, Path out, BooleanSupplier cond) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (!cond.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "timed out waiting for " + what + ":\n" + Files.readString(out));
            Thread.sleep(20);
        }
    }

    @Test
    void sigtermTurnsReadinessOffFinishesInFlightRequestsThenFlushesAndCheckpointsTheAudit() throws Exception {
        Path config = ConfigFixture.copyOfShipped(Files.createDirectories(tmp.resolve("config")));
        int port = PrivateServer.sparePort();
        Path out = tmp.resolve("out.txt");
        String java = ProcessHandle.current().info().command().orElse(System.getProperty("java.home") + "/bin/java");
        ProcessBuilder pb = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED", "-Xshare:auto",
                "-Ddeputy.test.controllers=true", "-cp", System.getProperty("java.class.path"), Application.class.getName());
        Map<String, String> env = pb.environment();
        env.keySet().removeIf(k -> k.startsWith("DEPUTY_") && !k.startsWith("DEPUTY_TEST_"));
        env.put("DEPUTY_CONFIG_DIR", config.toString());
        env.put("DEPUTY_DATA_DIR", tmp.resolve("data").toString());
        env.put("DEPUTY_HTTP_PORT", Integer.toString(port));
        env.put("DEPUTY_HTTPS_PORT", "off");
        Process p = pb.redirectErrorStream(true).redirectOutput(out.toFile()).start();
        try {
            await("the issuer line", p, out, () -> read(out).contains("issuer http://localhost:" + port + "/t/demo"));
            assertEquals(200, get(port, "/health/live").statusCode());
            HttpResponse<String> ready = get(port, "/health/ready");
            assertEquals(200, ready.statusCode(), ready.body());
            assertTrue(ready.body().contains("\"database\""), ready.body());
            assertEquals(200, get(port, "/health").statusCode());

            Path release = tmp.resolve("release");
            CompletableFuture<HttpResponse<String>> held = http.sendAsync(HttpRequest.newBuilder(
                            URI.create("http://127.0.0.1:" + port + "/test/hold/demo?file=" + release)).build(),
                    HttpResponse.BodyHandlers.ofString());
            await("the held request", p, out, () -> "1".equals(body(port, "/test/held")));

            p.destroy(); // SIGTERM
            await("readiness off", p, out, () -> status(port, "/health/ready") == 503);
            HttpResponse<String> draining = get(port, "/health/ready");
            assertTrue(draining.body().contains("\"draining\":true"), draining.body());
            // still alive and still serving while it drains
            assertEquals(200, get(port, "/health/live").statusCode());
            HttpResponse<String> jwks = get(port, "/t/demo/jwks.json");
            assertEquals(200, jwks.statusCode());
            assertEquals(List.of("close"), jwks.headers().allValues("connection"));
            assertTrue(p.isAlive(), "stopped before its request in flight finished");

            Files.createFile(release);
            HttpResponse<String> done = held.get(60, TimeUnit.SECONDS);
            assertEquals(200, done.statusCode(), done.body());
            Matcher seq = Pattern.compile("\"seq\":(\\d+)").matcher(done.body());
            assertTrue(seq.find(), done.body());

            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "did not stop:\n" + read(out));
            String output = read(out);
            assertEquals(0, p.exitValue(), output);
            Matcher fin = Pattern.compile("stopped cleanly in \\d+ ms: requests drained \\(0 left\\), audit flushed and checkpointed \\{[^}]*demo=(\\d+)")
                    .matcher(output);
            assertTrue(fin.find(), "no final line:\n" + output);
            assertTrue(Long.parseLong(fin.group(1)) >= Long.parseLong(seq.group(1)),
                    "checkpoint " + fin.group(1) + " does not cover the held request's entry " + seq.group(1));
            assertTrue(output.indexOf("draining: readiness is off") < output.indexOf("stopped cleanly"), output);
            assertTrue(!output.contains("\tat "), "no stack trace:\n" + output);
        } finally {
            p.destroyForcibly();
        }
    }

    private static String read(Path out) {
        try {
            return Files.readString(out);
        } catch (java.io.IOException e) {
            return "";
        }
    }

    private String body(int port, String path) {
        try {
            return get(port, path).body();
        } catch (Exception e) {
            return "";
        }
    }

    private int status(int port, String path) {
        try {
            return get(port, path).statusCode();
        } catch (Exception e) {
            return -1;
        }
    }
}
