package dev.deputy.broker.testing;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.oauth2.sdk.util.URLUtils;
import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A real Keycloak for end-to-end tests: the unpacked {@code org.keycloak:keycloak-quarkus-dist} named by
 * {@code -Ddeputy.keycloak.dist} (started here in dev mode on a free loopback port; {@code scripts/test} unpacks it
 * into {@code ~/.cache/deputy/keycloak}), or a running one at {@code -Ddeputy.keycloak.url}. Without either the calling
 * test is skipped with the reason. Its admin REST API ({@link #admin}) builds realms, clients, groups and users.
 */
public final class KeycloakServer implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static KeycloakServer shared;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final Process process;
    private final Path log;
    private final String url;
    private String token;
    private long tokenUntil;

    private KeycloakServer(Process process, Path log, String url) {
        this.process = process;
        this.log = log;
        this.url = url;
    }

    /**
     * One Keycloak for every test class of this JVM (a start costs half a minute or more), stopped when the JVM exits;
     * each class makes and deletes its own realm. Skips the calling test when none is configured.
     */
    public static synchronized KeycloakServer sharedOrSkip() throws Exception {
        if (shared == null) {
            KeycloakServer kc = startOrSkip(Files.createTempDirectory("deputy-keycloak-"));
            Runtime.getRuntime().addShutdownHook(new Thread(kc::close, "keycloak-stop"));
            shared = kc;
        }
        return shared;
    }

    /** Starts (or connects to) Keycloak, waiting until it answers; skips the calling test when none is configured. */
    public static KeycloakServer startOrSkip(Path dir) throws Exception {
        String url = System.getProperty("deputy.keycloak.url");
        String dist = System.getProperty("deputy.keycloak.dist");
        Assumptions.assumeTrue(url != null || dist != null,
                "no Keycloak: run scripts/test or scripts/e2e-keycloak (or pass -Ddeputy.keycloak.dist / -Ddeputy.keycloak.url)");
        KeycloakServer kc;
        if (url != null) {
            kc = new KeycloakServer(null, null, url.replaceAll("/$", ""));
        } else {
            int port;
            try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                port = s.getLocalPort();
            }
            Path log = dir.resolve("keycloak.log");
            ProcessBuilder pb = new ProcessBuilder(Path.of(dist, "bin", "kc.sh").toString(), "start-dev",
                    "--http-host=127.0.0.1", "--http-port=" + port, "--cache=local")
                    .redirectErrorStream(true).redirectOutput(log.toFile());
            pb.environment().put("KC_BOOTSTRAP_ADMIN_USERNAME", "admin");
            pb.environment().put("KC_BOOTSTRAP_ADMIN_PASSWORD", "admin");
            pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
            kc = new KeycloakServer(pb.start(), log, "http://127.0.0.1:" + port);
        }
        kc.await();
        return kc;
    }

    public String url() {
        return url;
    }

    private void await() throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(600).toNanos();
        while (System.nanoTime() < deadline) {
            if (process != null && !process.isAlive()) {
                throw new IllegalStateException("Keycloak exited: " + Files.readString(log));
            }
            try {
                if (http.send(HttpRequest.newBuilder(URI.create(url + "/realms/master")).build(),
                        HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
                    return;
                }
            } catch (IOException notYet) {
                // starting
            }
            Thread.sleep(500);
        }
        throw new IllegalStateException("Keycloak did not start within 600 s (its first start builds for minutes on a loaded machine)");
    }

    /** A master-realm admin token (admin-cli, password grant), renewed before its one minute is up. */
    private synchronized String adminToken() throws Exception {
        if (token != null && System.nanoTime() < tokenUntil) {
            return token;
        }
        String form = URLUtils.serializeParameters(Map.of("grant_type", List.of("password"), "client_id", List.of("admin-cli"),
                "username", List.of(System.getProperty("deputy.keycloak.admin-user", "admin")),
                "password", List.of(System.getProperty("deputy.keycloak.admin-password", "admin"))));
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url + "/realms/master/protocol/openid-connect/token"))
                .header("Content-Type", "application/x-www-form-urlencoded").POST(HttpRequest.BodyPublishers.ofString(form)).build(),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            throw new IllegalStateException("Keycloak admin token: " + r.statusCode() + " " + r.body());
        }
        Map<?, ?> body = JSON.readValue(r.body(), Map.class);
        token = (String) body.get("access_token");
        tokenUntil = System.nanoTime() + Duration.ofSeconds(((Number) body.get("expires_in")).longValue() / 2).toNanos();
        return token;
    }

    /** {@code method /admin/realms<path>} with a JSON body (or none); fails unless 2xx. */
    public HttpResponse<String> admin(String method, String path, Object body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url + "/admin/realms" + path))
                .header("Authorization", "Bearer " + adminToken());
        if (body != null) {
            b.header("Content-Type", "application/json").method(method, HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body)));
        } else {
            b.method(method, HttpRequest.BodyPublishers.noBody());
        }
        HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() / 100 != 2) {
            throw new AssertionError("Keycloak admin API: " + method + " " + path + " → " + r.statusCode() + " " + r.body());
        }
        return r;
    }

    /** The id at the end of a 201's Location header. */
    public static String createdId(HttpResponse<String> created) {
        String location = created.headers().firstValue("Location").orElseThrow(() -> new AssertionError("no Location"));
        return location.substring(location.lastIndexOf('/') + 1);
    }

    public static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    /** Best effort: deletes a test's realm. */
    public void deleteRealm(String realm) {
        try {
            admin("DELETE", "/" + enc(realm), null);
        } catch (Exception | AssertionError ignored) {
            // best effort
        }
    }

    @Override
    public void close() {
        if (process != null) {
            // kc.sh may run Java as its child: stop the whole tree
            process.descendants().forEach(ProcessHandle::destroy);
            process.destroy();
            try {
                if (!process.waitFor(20, TimeUnit.SECONDS)) {
                    process.descendants().forEach(ProcessHandle::destroyForcibly);
                    process.destroyForcibly();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                process.destroyForcibly();
            }
        }
    }
}
