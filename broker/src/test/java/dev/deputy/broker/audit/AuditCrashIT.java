package dev.deputy.broker.audit;

import com.fasterxml.jackson.core.type.TypeReference;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Nothing acknowledged is lost: a real broker process ({@code java -jar broker/target/deputy-broker.jar}) under
 * audited load from many threads is SIGKILLed, restarted on the same data, and every request that got a 2xx
 * has its audit entry (matched by X-Request-Id), and the chain verifies.
 *
 * <p>Needs the shaded jar ({@code mvn -B -q -o package -DskipTests}); skipped without it. Backend:
 * {@code -Ddeputy.crash.backend=h2|mariadb} (default h2). The load is {@link AuditedLoad}: client_credentials
 * with private_key_jwt (a fresh assertion per request); {@code -Ddeputy.crash.load=admin} uses admin token requests.
 * The load runs until {@code -Ddeputy.crash.requests} (300) requests were acknowledged, bounded by
 * {@code -Ddeputy.crash.timeoutMs} (10 minutes), and the broker is killed while it is still running.
 */
class AuditCrashIT {
    static final Path JAR = Path.of(System.getProperty("deputy.jar", "target/deputy-broker.jar"));
    static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    /** One audited request kind: which tenant's chain it writes to, and one call returning the request id on 2xx. */
    interface AuditedLoad {
        String tenant();

        String eventType();

        String call(String base) throws IOException, InterruptedException;
    }

    /** {@code POST /admin/token} with the bootstrap credential: each success appends admin.token.issue. */
    record AdminTokenLoad(String secret) implements AuditedLoad {
        public String tenant() {
            return "_broker";
        }

        public String eventType() {
            return EventTypes.ADMIN_TOKEN_ISSUE;
        }

        public String call(String base) throws IOException, InterruptedException {
            HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/admin/token"))
                    .timeout(Duration.ofSeconds(10))
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .POST(HttpRequest.BodyPublishers.ofString("grant_type=client_credentials&client_id=admin&client_secret="
                            + URLEncoder.encode(secret, StandardCharsets.UTF_8))).build(), HttpResponse.BodyHandlers.ofString());
            return r.statusCode() == 200 ? r.headers().firstValue("X-Request-Id").orElseThrow() : null;
        }
    }

    /**
     * client_credentials with private_key_jwt (a fresh ES256 assertion per request) for an agent provisioned
     * by policy-as-code: each success appends token.issued before the token is returned.
     */
    record ClientCredentialsLoad(com.nimbusds.jose.jwk.ECKey key) implements AuditedLoad {
        public String tenant() {
            return "acme";
        }

        public String eventType() {
            return EventTypes.TOKEN_ISSUED;
        }

        public String call(String base) throws IOException, InterruptedException {
            String assertion;
            try {
                java.time.Instant now = java.time.Instant.now();
                com.nimbusds.jwt.SignedJWT jwt = new com.nimbusds.jwt.SignedJWT(
                        new com.nimbusds.jose.JWSHeader.Builder(com.nimbusds.jose.JWSAlgorithm.ES256).keyID(key.getKeyID()).build(),
                        new com.nimbusds.jwt.JWTClaimsSet.Builder().issuer("load-bot").subject("load-bot")
                                .audience(base + "/t/acme").jwtID(UUID.randomUUID().toString())
                                .issueTime(java.util.Date.from(now)).expirationTime(java.util.Date.from(now.plusSeconds(60)))
                                .build());
                jwt.sign(new com.nimbusds.jose.crypto.ECDSASigner(key));
                assertion = jwt.serialize();
            } catch (com.nimbusds.jose.JOSEException e) {
                throw new IOException(e);
            }
            HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/t/acme/token"))
                    .timeout(Duration.ofSeconds(10))
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .POST(HttpRequest.BodyPublishers.ofString("grant_type=client_credentials"
                            + "&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer"
                            + "&client_assertion=" + assertion)).build(), HttpResponse.BodyHandlers.ofString());
            return r.statusCode() == 200 ? r.headers().firstValue("X-Request-Id").orElseThrow() : null;
        }
    }

    static final class Broker {
        final Path data;
        final Path config;
        final int port;
        final Map<String, String> env;
        Process process;

        Broker(Path data, Path config, int port, Map<String, String> env) {
            this.data = data;
            this.config = config;
            this.port = port;
            this.env = env;
        }

        String base() {
            return "http://127.0.0.1:" + port;
        }

        void start() throws Exception {
            ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Xmx512m", "-jar", JAR.toAbsolutePath().toString());
            pb.environment().put("DEPUTY_HTTP_PORT", Integer.toString(port));
            pb.environment().put("DEPUTY_HTTPS_PORT", "off");
            pb.environment().put("DEPUTY_DATA_DIR", data.toString());
            pb.environment().put("DEPUTY_CONFIG_DIR", config.toString());
            pb.environment().put("DEPUTY_PUBLIC_URL", base());
            pb.environment().putAll(env);
            pb.redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(data.resolve("broker.log").toFile()));
            process = pb.start();
            long deadline = System.currentTimeMillis() + 120_000;
            while (System.currentTimeMillis() < deadline) {
                if (!process.isAlive()) {
                    throw new IllegalStateException("broker exited: " + Files.readString(data.resolve("broker.log")));
                }
                try {
                    if (HTTP.send(HttpRequest.newBuilder(URI.create(base() + "/health")).build(),
                            HttpResponse.BodyHandlers.ofString()).statusCode() == 200
                            && Files.exists(data.resolve("admin-credentials.json"))) {
                        return;
                    }
                } catch (IOException notYet) {
                    // starting
                }
                Thread.sleep(250);
            }
            throw new IllegalStateException("broker did not start in 120 s");
        }

        void kill() throws InterruptedException {
            process.destroyForcibly(); // SIGKILL: no shutdown hooks, no flush
            process.waitFor();
        }
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    @Test
    void everyAcknowledgedRequestSurvivesSigkill() throws Exception {
        Assumptions.assumeTrue(Files.exists(JAR), "build the shaded jar first: mvn -B -q -o package -DskipTests");
        String backend = System.getProperty("deputy.crash.backend", "h2");
        Path data = Files.createTempDirectory("deputy-crash");
        Path config = Files.createTempDirectory("deputy-crash-config");
        Files.createDirectories(config.resolve("tenants/acme"));
        Files.writeString(config.resolve("broker.yml"), "default_tenant: acme\n");
        Files.writeString(config.resolve("tenants/acme/tenant.yml"), "display_name: Acme\n");
        // the client_credentials load: a role, a default resource and an agent, as policy-as-code
        com.nimbusds.jose.jwk.ECKey loadKey = new com.nimbusds.jose.jwk.gen.ECKeyGenerator(com.nimbusds.jose.jwk.Curve.P_256)
                .keyID("load-1").algorithm(com.nimbusds.jose.JWSAlgorithm.ES256).generate();
        Files.createDirectories(config.resolve("tenants/acme/roles"));
        Files.createDirectories(config.resolve("tenants/acme/resources"));
        Files.createDirectories(config.resolve("tenants/acme/agents"));
        Files.writeString(config.resolve("tenants/acme/roles/reader.yml"), "scopes: [api:read]\n");
        Files.writeString(config.resolve("tenants/acme/resources/api.yml"),
                "uri: https://api.acme.test/mcp\nname: API\nscopes: [api:read]\ndefault: true\n");
        Files.writeString(config.resolve("tenants/acme/agents/load-bot.yml"), "name: Load bot\nowner: ops@acme.test\n"
                + "environment: production\nroles: [reader]\nauth_method: private_key_jwt\njwks: {\"keys\": ["
                + loadKey.toPublicJWK().toJSONString() + "]}\n");
        String dbName = null;
        Map<String, String> env = Map.of();
        if (backend.equals("mariadb")) {
            dbName = "deputy_t_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
            try (Connection c = DriverManager.getConnection(TestBackends.MARIADB, "root", ""); Statement s = c.createStatement()) {
                s.execute("CREATE DATABASE " + dbName);
            }
            env = Map.of("DEPUTY_MYSQL_URL", TestBackends.MARIADB + dbName, "DEPUTY_MYSQL_USER", "root");
        }
        Broker broker = new Broker(data, config, freePort(), env);
        try {
            broker.start();
            Map<String, Object> cred = AuditJson.MAPPER.readValue(data.resolve("admin-credentials.json").toFile(),
                    new TypeReference<>() {
                    });
            AuditedLoad load = "admin".equals(System.getProperty("deputy.crash.load"))
                    ? new AdminTokenLoad((String) cred.get("client_secret")) : new ClientCredentialsLoad(loadKey);
            Set<String> acknowledged = ConcurrentHashMap.newKeySet();
            // Load until enough requests were acknowledged, however long that takes on this machine (bounded by a
            // generous timeout), then kill while the load is still running: a fixed window let a busy machine get
            // only a handful of requests through and fail the test for its speed.
            int target = Integer.getInteger("deputy.crash.requests", 300);
            long timeoutMs = Long.getLong("deputy.crash.timeoutMs", 600_000);
            CountDownLatch enough = new CountDownLatch(target);
            AtomicBoolean stop = new AtomicBoolean();
            int threads = Integer.getInteger("deputy.crash.threads", 32);
            List<Thread> workers = new ArrayList<>();
            for (int i = 0; i < threads; i++) {
                workers.add(Thread.ofPlatform().start(() -> {
                    while (!stop.get()) {
                        try {
                            String id = load.call(broker.base());
                            if (id != null && acknowledged.add(id)) {
                                enough.countDown();
                            }
                        } catch (IOException | InterruptedException e) {
                            // in flight at the kill: not acknowledged, may or may not be in the trail
                        }
                    }
                }));
            }
            boolean reached = enough.await(timeoutMs, TimeUnit.MILLISECONDS);
            broker.kill(); // while the load is running
            stop.set(true);
            for (Thread w : workers) {
                w.join();
            }
            System.out.printf("CRASH %s: %d acknowledged before SIGKILL%n", backend, acknowledged.size());
            assertTrue(reached, "the load did not reach " + target + " acknowledged requests in " + timeoutMs
                    + " ms (only " + acknowledged.size() + "): is the broker answering? see " + data.resolve("broker.log"));

            broker.start();
            String admin = adminToken(broker, (String) cred.get("client_secret"));
            Set<String> audited = new HashSet<>();
            long after = 0;
            while (true) {
                HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(broker.base() + "/admin/t/"
                                + load.tenant() + "/audit/entries?type=" + load.eventType() + "&outcome=success&limit=1000&after=" + after))
                        .header("Authorization", "Bearer " + admin).build(), HttpResponse.BodyHandlers.ofString());
                assertEquals(200, r.statusCode(), r.body());
                Map<String, Object> page = AuditJson.MAPPER.readValue(r.body(), new TypeReference<>() {
                });
                @SuppressWarnings("unchecked")
                List<Map<String, Object>> entries = (List<Map<String, Object>>) page.get("entries");
                entries.forEach(e -> audited.add((String) e.get("request_id")));
                if (page.get("next_after") == null) {
                    break;
                }
                after = ((Number) page.get("next_after")).longValue();
            }
            Set<String> lost = new HashSet<>(acknowledged);
            lost.removeAll(audited);
            System.out.printf("CRASH %s: %d audited after restart, %d acknowledged but missing%n", backend, audited.size(), lost.size());
            assertEquals(Set.of(), lost, "acknowledged requests without an audit entry");
            HttpResponse<String> v = HTTP.send(HttpRequest.newBuilder(URI.create(broker.base() + "/admin/t/"
                    + load.tenant() + "/audit/verify")).header("Authorization", "Bearer " + admin).build(), HttpResponse.BodyHandlers.ofString());
            Map<String, Object> report = AuditJson.MAPPER.readValue(v.body(), new TypeReference<>() {
            });
            System.out.println("CRASH verify: " + report);
            assertEquals(Boolean.TRUE, report.get("ok"), v.body());
        } finally {
            if (broker.process != null && broker.process.isAlive()) {
                broker.kill();
            }
            if (dbName != null) {
                try (Connection c = DriverManager.getConnection(TestBackends.MARIADB, "root", ""); Statement s = c.createStatement()) {
                    s.execute("DROP DATABASE IF EXISTS " + dbName);
                }
            }
        }
    }

    static String adminToken(Broker b, String secret) throws Exception {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(b.base() + "/admin/token"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("grant_type=client_credentials&client_id=admin&client_secret="
                        + URLEncoder.encode(secret, StandardCharsets.UTF_8))).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        return (String) AuditJson.MAPPER.readValue(r.body(), new TypeReference<Map<String, Object>>() {
        }).get("access_token");
    }
}
