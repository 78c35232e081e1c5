package dev.deputy.broker;

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
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link Application#main} as an operator meets it, in a process of its own (the same main class the shaded
 * jar runs, on the test classpath): it prints where it listens and each issuer, and refuses a bad config
 * with {@code deputy: bad configuration: <path>:<line>: <reason>} and exit status 2.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class ApplicationProcessTest {
    @TempDir
    Path tmp;

    Process launch(Path config, Path data, int port, Path out) throws IOException {
        return launch(config, data, port, out, Map.of());
    }

    Process launch(Path config, Path data, int port, Path out, Map<String, String> extraEnv) throws IOException {
        String java = ProcessHandle.current().info().command().orElse(System.getProperty("java.home") + "/bin/java");
        ProcessBuilder pb = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED", "-Xshare:auto",
                "-cp", System.getProperty("java.class.path"), Application.class.getName());
        Map<String, String> env = pb.environment();
        env.keySet().removeIf(k -> k.startsWith("DEPUTY_") && !k.startsWith("DEPUTY_TEST_"));
        env.putAll(extraEnv);
        env.put("DEPUTY_CONFIG_DIR", config.toString());
        env.put("DEPUTY_DATA_DIR", data.toString());
        env.put("DEPUTY_HTTP_PORT", Integer.toString(port));
        // never the default 8443: a developer's own broker (scripts/run) may hold it while the tests run
        env.putIfAbsent("DEPUTY_HTTPS_PORT", Integer.toString(PrivateServer.sparePort()));
        return pb.redirectErrorStream(true).redirectOutput(out.toFile()).start();
    }

    @Test
    void badConfigurationIsReportedAndExitsWith2() throws Exception {
        Path config = ConfigFixture.at(tmp.resolve("config"))
                .tenant("demo", "display_name: Demo\nsigning_alg: ES256\ncolour: blue\n").root();
        Path out = tmp.resolve("out.txt");
        Process p = launch(config, tmp.resolve("data"), PrivateServer.sparePort(), out);
        assertTrue(p.waitFor(90, TimeUnit.SECONDS), "did not exit");
        String output = Files.readString(out);
        assertEquals(2, p.exitValue(), output);
        String expected = "deputy: bad configuration: " + config.resolve("tenants/demo/tenant.yml") + ":3: unknown key 'colour'";
        assertTrue(output.contains(expected), "expected '" + expected + "' in:\n" + output);
        assertTrue(!output.contains("\tat "), "no stack trace:\n" + output);
    }

    @Test
    void theReasonKeepsItsUtf8WhateverTheLocale() throws Exception {
        // issue 17: a value quoted from the file keeps its § and quotes, also under the C locale (ASCII by default)
        Path config = ConfigFixture.at(tmp.resolve("config"))
                .tenant("demo", "display_name: Demo\nsigning_alg: \"HS256 § “x”\"\n").root();
        Path out = tmp.resolve("out.txt");
        Process p = launch(config, tmp.resolve("data"), PrivateServer.sparePort(), out, Map.of("LANG", "C", "LC_ALL", "C"));
        assertTrue(p.waitFor(90, TimeUnit.SECONDS), "did not exit");
        String output = Files.readString(out);
        assertEquals(2, p.exitValue(), output);
        assertTrue(output.contains(config.resolve("tenants/demo/tenant.yml") + ":2: signing_alg 'HS256 § “x”' is not supported"), output);
    }

    @Test
    void missingConfigDirIsReported() throws Exception {
        Path out = tmp.resolve("out.txt");
        Process p = launch(tmp.resolve("no-such-config"), tmp.resolve("data"), PrivateServer.sparePort(), out);
        assertTrue(p.waitFor(90, TimeUnit.SECONDS), "did not exit");
        String output = Files.readString(out);
        assertEquals(2, p.exitValue(), output);
        assertTrue(output.contains("deputy: bad configuration: " + tmp.resolve("no-such-config")), output);
    }

    @Test
    void portInUseIsReportedAndExitsWith2() throws Exception {
        Path config = ConfigFixture.copyOfShipped(Files.createDirectories(tmp.resolve("config")));
        try (java.net.ServerSocket taken = new java.net.ServerSocket(0)) {
            Path out = tmp.resolve("out.txt");
            Process p = launch(config, tmp.resolve("data"), taken.getLocalPort(), out);
            assertTrue(p.waitFor(90, TimeUnit.SECONDS), "did not exit");
            String output = Files.readString(out);
            assertEquals(2, p.exitValue(), output);
            assertTrue(output.contains("deputy: failed to start: "), output);
        }
    }

    @Test
    void startsAndPrintsWhereItListensAndTheIssuer() throws Exception {
        Path config = ConfigFixture.copyOfShipped(Files.createDirectories(tmp.resolve("config")));
        int port = PrivateServer.sparePort();
        Path out = tmp.resolve("out.txt");
        Process p = launch(config, tmp.resolve("data"), port, out);
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
            String issuerLine = "issuer http://localhost:" + port + "/t/demo";
            while (!Files.readString(out).contains(issuerLine)) {
                assertTrue(p.isAlive(), "exited early:\n" + Files.readString(out));
                assertTrue(System.nanoTime() < deadline, "no issuer line:\n" + Files.readString(out));
                Thread.sleep(100);
            }
            String output = Files.readString(out);
            assertTrue(output.contains("Deputy listening on http://"), output);
            assertTrue(output.contains(":" + port + " (started in "), output);
            try (HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build()) {
                HttpResponse<String> health = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health")).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertEquals(200, health.statusCode(), health.body());
            }
        } finally {
            p.destroy();   // SIGTERM, as Ctrl-C or a service manager would
            assertTrue(p.waitFor(30, TimeUnit.SECONDS), "did not stop on SIGTERM");
            p.destroyForcibly();
        }
        assertTrue(List.of(0, 130, 143).contains(p.exitValue()), "exit " + p.exitValue());
    }
}
