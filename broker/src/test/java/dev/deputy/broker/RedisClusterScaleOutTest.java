package dev.deputy.broker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jwt.SignedJWT;
import dev.deputy.broker.agent.Agent;
import dev.deputy.broker.agent.AgentChanges;
import dev.deputy.broker.agent.AgentCredential;
import dev.deputy.broker.agent.AgentStore;
import dev.deputy.broker.agent.Resource;
import dev.deputy.broker.agent.Role;
import dev.deputy.broker.audit.AuditVerifier;
import dev.deputy.broker.oauth.TestKeys;
import dev.deputy.broker.testing.ConfigFixture;
import dev.deputy.broker.testing.MariaDbDatabase;
import dev.deputy.broker.testing.PrivateServer;
import dev.deputy.broker.testing.RedisCluster;
import io.micronaut.context.ApplicationContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Scale-out on the production wiring: three broker processes (the main class the shaded jar runs) on loopback,
 * one MariaDB database, a six-process Redis Cluster ({@code DEPUTY_REDIS_URI=redis-cluster://…}). Under
 * private_key_jwt client_credentials load (a fresh ES256 assertion per request, spread over the nodes):
 * <ol>
 *   <li>one broker node is killed (SIGKILL): the clients move on to the others, and every token any node
 *   acknowledged (200) has its {@code token.issued} audit entry in the one chain, which verifies;</li>
 *   <li>one assertion sent to two nodes at once is accepted once (jti single use across nodes);</li>
 *   <li>a Redis primary is killed: requests whose keys live on it get 503 {@code temporarily_unavailable} until
 *   its replica is promoted, then every node serves again without a restart.</li>
 * </ol>
 * Every wait is for a condition, bounded; the processes are killed at the end whatever happens.
 */
@Timeout(value = 12, unit = TimeUnit.MINUTES)
class RedisClusterScaleOutTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String TENANT = "demo";
    static final String AGENT = "scale.out-agent_1";
    static final String RESOURCE = "https://files.scale-out.example/mcp";
    static final String PUBLIC_URL = "https://deputy.scale-out.example";
    static final Duration BOUND = Duration.ofSeconds(90);

    @TempDir
    Path tmp;

    final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    record Node(String name, int port, Process process, Path log) {
        String url() {
            return "http://127.0.0.1:" + port;
        }
    }

    /** What the load saw, classified as it arrives. */
    final Set<String> acknowledged = ConcurrentHashMap.newKeySet();      // jti of every token answered 200
    final Map<String, AtomicInteger> okPerNode = new ConcurrentHashMap<>();
    final AtomicInteger unavailable = new AtomicInteger();                // 503 temporarily_unavailable
    final List<String> unexpected = new CopyOnWriteArrayList<>();
    final AtomicBoolean redisGap = new AtomicBoolean();                   // 503 is allowed only while a primary is down
    final Set<String> killed = ConcurrentHashMap.newKeySet();            // nodes whose connection errors are expected

    @Test
    void threeNodesOnARedisClusterSurviveANodeKillAndAPrimaryFailover() throws Exception {
        byte[] mk = new byte[32];
        new SecureRandom().nextBytes(mk);
        String masterKey = Base64.getEncoder().encodeToString(mk);
        // the shipped broker and tenant settings only: the test provisions its own agent, role and default resource
        Path config = ConfigFixture.copyOfShipped(Files.createDirectories(tmp.resolve("config")));
        try (Stream<Path> files = Files.walk(config.resolve("tenants"))) {
            files.sorted(Comparator.reverseOrder())
                    .filter(f -> !f.equals(config.resolve("tenants")) && !f.equals(config.resolve("tenants/demo"))
                            && !f.equals(config.resolve("tenants/demo/tenant.yml")))
                    .forEach(f -> f.toFile().delete());
        }
        ECKey key = new ECKeyGenerator(Curve.P_256).keyID("scale-out key ü.1").generate();
        List<Node> nodes = new ArrayList<>();
        try (MariaDbDatabase db = MariaDbDatabase.create(); RedisCluster redis = RedisCluster.start(tmp.resolve("redis"))) {
            Map<String, String> env = new HashMap<>(Map.of(
                    "DEPUTY_CONFIG_DIR", config.toString(), "DEPUTY_PUBLIC_URL", PUBLIC_URL, "DEPUTY_MASTER_KEY", masterKey,
                    "DEPUTY_MYSQL_URL", db.jdbcUrl(), "DEPUTY_MYSQL_USER", db.user(), "DEPUTY_MYSQL_PASSWORD", db.password(),
                    "DEPUTY_REDIS_URI", redis.uri(), "DEPUTY_REDIS_PREFIX", "deputy_t:" + UUID.randomUUID() + ":"));
            provision(env, key);
            try {
                for (String name : List.of("a", "b", "c")) {
                    nodes.add(launch(name, env));
                }
                for (Node n : nodes) {
                    // three JVMs starting at once on a shared 2-core machine: a start bound, not a speed claim
                    awaitCondition(n.name() + " answers /health 200", Duration.ofMinutes(4), () -> {
                        assertTrue(n.process().isAlive(), () -> n.name() + " exited:\n" + tail(n.log()));
                        return status(n, "/health") == 200;
                    });
                }
                JsonNode health = JSON.readTree(get(nodes.getFirst(), "/health").body());
                assertEquals("redis-cluster", health.at("/checks/ephemeral/backend").asText(), health.toString());
                assertEquals("mariadb", health.at("/checks/database/backend").asText());

                List<Node> live = new CopyOnWriteArrayList<>(nodes);
                AtomicBoolean stop = new AtomicBoolean();
                List<Thread> clients = new ArrayList<>();
                for (int i = 0; i < 4; i++) {
                    int first = i;
                    clients.add(Thread.ofPlatform().name("load-" + i).start(() -> load(live, first, key, stop)));
                }
                try {
                    // 1. every node serves
                    awaitCondition("every node has issued 20 tokens", () -> nodes.stream().allMatch(n -> ok(n) >= 20));

                    // 2. one assertion, two nodes at once: accepted once
                    for (int i = 0; i < 10; i++) {
                        String assertion = assertion(key);
                        List<Thread> racers = new ArrayList<>();
                        List<Integer> statuses = new CopyOnWriteArrayList<>();
                        for (Node n : nodes) {
                            racers.add(Thread.ofVirtual().start(() -> statuses.add(token(n, assertion).statusCode())));
                        }
                        for (Thread t : racers) {
                            t.join();
                        }
                        assertEquals(1, statuses.stream().filter(s -> s == 200).count(), "one of three accepted: " + statuses);
                        assertTrue(statuses.stream().allMatch(s -> s == 200 || s == 400 || s == 401), statuses.toString());
                    }

                    // 3. a broker node dies mid-load; the clients move on
                    Node victim = nodes.get(2);
                    killed.add(victim.name());
                    live.remove(victim);
                    victim.process().destroyForcibly();
                    assertTrue(victim.process().waitFor(30, TimeUnit.SECONDS));
                    int aAfter = ok(nodes.get(0)) + 30;
                    int bAfter = ok(nodes.get(1)) + 30;
                    awaitCondition("the surviving nodes issue 30 more tokens each",
                            () -> ok(nodes.get(0)) >= aAfter && ok(nodes.get(1)) >= bAfter);
                    assertEquals(List.of(), unexpected, "nothing but 200 before the Redis failover");

                    // 4. a Redis primary dies: 503 temporarily_unavailable in the gap, then recovery without restart
                    RedisCluster.Node primary = redis.primaries().getFirst();
                    RedisCluster.Node replica = redis.replicaOf(primary);
                    redisGap.set(true);
                    primary.kill();
                    awaitCondition("some request met the gap (503 temporarily_unavailable)", () -> unavailable.get() > 0);
                    redis.await("the replica " + replica.address() + " is promoted", BOUND,
                            () -> replica.role().orElse("").equals("master"));
                    // recovered: an assertion whose replay key lands anywhere (the promoted slots included) succeeds on
                    // both nodes, many times in a row
                    awaitCondition("40 tokens in a row from each surviving node after the failover", () -> {
                        for (Node n : List.of(nodes.get(0), nodes.get(1))) {
                            for (int i = 0; i < 40; i++) {
                                if (token(n, assertion(key)).statusCode() != 200) {
                                    return false;
                                }
                            }
                        }
                        return true;
                    });
                    redisGap.set(false);
                    int a2 = ok(nodes.get(0)) + 20;
                    int b2 = ok(nodes.get(1)) + 20;
                    awaitCondition("the load goes on after recovery", () -> ok(nodes.get(0)) >= a2 && ok(nodes.get(1)) >= b2);
                } finally {
                    stop.set(true);
                    for (Thread t : clients) {
                        t.join(30_000);
                    }
                }
                assertEquals(List.of(), unexpected, "only 200, or 503 temporarily_unavailable during the Redis gap");
            } finally {
                for (Node n : nodes) {
                    n.process().destroy();
                }
                for (Node n : nodes) {
                    if (!n.process().waitFor(30, TimeUnit.SECONDS)) {
                        n.process().destroyForcibly();
                    }
                }
            }

            // every acknowledged token has its audit entry; the chain written by three nodes verifies
            Set<String> audited = auditedJtis(db);
            Set<String> missing = new HashSet<>(acknowledged);
            missing.removeAll(audited);
            assertTrue(acknowledged.size() > 100, "load ran: " + acknowledged.size());
            assertEquals(Set.of(), missing, "acknowledged tokens without a token.issued entry (of " + acknowledged.size() + ")");
            System.out.printf("scale-out: %d tokens acknowledged (a %d, b %d, c %d before its kill), all audited; "
                            + "%d answered 503 temporarily_unavailable during the Redis failover%n", acknowledged.size(),
                    ok(nodes.get(0)), ok(nodes.get(1)), ok(nodes.get(2)), unavailable.get());
            try (ApplicationContext ctx = ApplicationContext.run(props(env))) {
                AuditVerifier.Report r = ctx.getBean(AuditVerifier.class).verify(TENANT);
                assertTrue(r.ok(), r.message());
            }
        }
    }

    // ---- the load

    void load(List<Node> live, int start, ECKey key, AtomicBoolean stop) {
        int i = start;
        while (!stop.get()) {
            List<Node> now = List.copyOf(live);
            Node n = now.get(Math.floorMod(i++, now.size()));
            HttpResponse<String> r;
            try {
                r = send(n, assertion(key));
            } catch (IOException e) {
                if (!killed.contains(n.name())) {
                    unexpected.add(n.name() + ": " + e);
                }
                continue; // a fresh assertion to the next node: never retry one that a dying node may have used
            } catch (InterruptedException e) {
                return;
            }
            classify(n, r);
        }
    }

    void classify(Node n, HttpResponse<String> r) {
        try {
            if (r.statusCode() == 200) {
                String jti = SignedJWT.parse(JSON.readTree(r.body()).get("access_token").asText()).getJWTClaimsSet().getJWTID();
                acknowledged.add(jti);
                okPerNode.computeIfAbsent(n.name(), x -> new AtomicInteger()).incrementAndGet();
                return;
            }
            JsonNode body = JSON.readTree(r.body());
            if (redisGap.get() && r.statusCode() == 503 && "temporarily_unavailable".equals(body.path("error").asText())
                    && r.headers().firstValue("Retry-After").isPresent()) {
                unavailable.incrementAndGet();
                return;
            }
        } catch (Exception e) {
            // recorded below
        }
        unexpected.add(n.name() + ": " + r.statusCode() + " " + r.body());
    }

    int ok(Node n) {
        AtomicInteger c = okPerNode.get(n.name());
        return c == null ? 0 : c.get();
    }

    static String assertion(ECKey key) {
        return TestKeys.sign(key, TestKeys.claims(AGENT, PUBLIC_URL + "/t/" + TENANT).build());
    }

    HttpResponse<String> send(Node n, String assertion) throws IOException, InterruptedException {
        String form = TestKeys.assertionForm(assertion).entrySet().stream()
                .map(e -> e.getKey() + "=" + URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8))
                .collect(Collectors.joining("&"));
        return http.send(HttpRequest.newBuilder(URI.create(n.url() + "/t/" + TENANT + "/token"))
                .header("Content-Type", "application/x-www-form-urlencoded").timeout(Duration.ofSeconds(20))
                .POST(HttpRequest.BodyPublishers.ofString(form)).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** A token request outside the load (its outcome is classified too, so acknowledged tokens are counted). */
    HttpResponse<String> token(Node n, String assertion) {
        try {
            HttpResponse<String> r = send(n, assertion);
            if (r.statusCode() == 200) {
                classify(n, r);
            }
            return r;
        } catch (IOException | InterruptedException e) {
            throw new IllegalStateException(n.name() + ": " + e, e);
        }
    }

    HttpResponse<String> get(Node n, String path) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create(n.url() + path)).timeout(Duration.ofSeconds(5)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    int status(Node n, String path) {
        try {
            return get(n, path).statusCode();
        } catch (IOException | InterruptedException e) {
            return -1;
        }
    }

    static void awaitCondition(String what, BooleanSupplier condition) throws InterruptedException {
        awaitCondition(what, BOUND, condition);
    }

    static void awaitCondition(String what, Duration bound, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + bound.toNanos();
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "not within " + bound.toSeconds() + " s: " + what);
            Thread.sleep(100);
        }
    }

    // ---- the nodes

    Node launch(String name, Map<String, String> settings) throws IOException {
        Path data = Files.createDirectories(tmp.resolve("node-" + name));
        int port = PrivateServer.sparePort();
        String java = ProcessHandle.current().info().command().orElse(System.getProperty("java.home") + "/bin/java");
        ProcessBuilder pb = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED", "-Xmx256m", "-XX:+UseSerialGC",
                "-cp", System.getProperty("java.class.path"), Application.class.getName());
        Map<String, String> env = pb.environment();
        env.keySet().removeIf(k -> k.startsWith("DEPUTY_") && !k.startsWith("DEPUTY_TEST_"));
        env.putAll(settings);
        env.put("DEPUTY_DATA_DIR", data.toString());
        env.put("DEPUTY_HTTP_PORT", Integer.toString(port));
        env.put("DEPUTY_HTTPS_PORT", Integer.toString(PrivateServer.sparePort()));
        Path log = tmp.resolve("node-" + name + ".log");
        Process p = pb.redirectErrorStream(true).redirectOutput(log.toFile()).start();
        Runtime.getRuntime().addShutdownHook(new Thread(p::destroyForcibly)); // should the test JVM die first
        return new Node(name, port, p, log);
    }

    static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
        } catch (IOException e) {
            return "(no log)";
        }
    }

    static Map<String, Object> props(Map<String, String> env) {
        Map<String, Object> props = new HashMap<>();
        props.put("deputy.data-dir", env.get("DEPUTY_CONFIG_DIR") + "/../provision-data");
        props.put("deputy.config-dir", env.get("DEPUTY_CONFIG_DIR"));
        props.put("deputy.public-url", PUBLIC_URL);
        props.put("deputy.master-key", env.get("DEPUTY_MASTER_KEY"));
        props.put("deputy.mysql.url", env.get("DEPUTY_MYSQL_URL"));
        props.put("deputy.mysql.user", env.get("DEPUTY_MYSQL_USER"));
        props.put("deputy.mysql.password", env.get("DEPUTY_MYSQL_PASSWORD"));
        props.put("deputy.redis.uri", env.get("DEPUTY_REDIS_URI"));
        props.put("deputy.redis.prefix", env.get("DEPUTY_REDIS_PREFIX"));
        return props;
    }

    /** The agent, its role, resource and ES256 key, written through the broker's own store before the nodes start. */
    static void provision(Map<String, String> env, ECKey key) {
        try (ApplicationContext ctx = ApplicationContext.run(props(env))) {
            AgentStore store = ctx.getBean(AgentStore.class);
            long now = System.currentTimeMillis();
            store.saveRole(new Role(TENANT, "scale-reader", "scale-out", List.of("files:read"), List.of(), "api"));
            store.saveResource(new Resource(TENANT, "scale-files", RESOURCE, "scale-out files", List.of("files:read"), true, "api"));
            store.saveAgent(new Agent(TENANT, AGENT, "Scale-out agent ü", "owner@example.com", "prod", List.of("scale-reader"),
                    Map.of(), Agent.Status.ACTIVE, Agent.AuthMethod.PRIVATE_KEY_JWT, "api", now, now, null, null));
            store.saveCredential(new AgentCredential(TENANT, "scale-jwks-1", AGENT, AgentCredential.Kind.JWKS, null, null,
                    new JWKSet(key.toPublicJWK()).toString(), null, null, null, AgentCredential.Status.ACTIVE, now));
            ctx.getBean(AgentChanges.class).changed(TENANT, AGENT);
        }
    }

    static Set<String> auditedJtis(MariaDbDatabase db) throws Exception {
        Set<String> jtis = new HashSet<>();
        try (Connection c = DriverManager.getConnection(db.jdbcUrl(), db.user(), db.password());
             Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT details FROM audit_log WHERE tenant_id = '" + TENANT
                     + "' AND event_type = 'token.issued'")) {
            while (rs.next()) {
                JsonNode d = JSON.readTree(rs.getString(1));
                if (d.hasNonNull("jti")) {
                    jtis.add(d.get("jti").asText());
                }
            }
        }
        return jtis;
    }
}
