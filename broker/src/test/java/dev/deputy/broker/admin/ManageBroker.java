package dev.deputy.broker.admin;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.deputy.broker.audit.AuditEntry;
import dev.deputy.broker.audit.AuditStore;
import io.micronaut.context.ApplicationContext;
import io.micronaut.runtime.server.EmbeddedServer;
import io.lettuce.core.KeyScanCursor;
import io.lettuce.core.RedisClient;
import io.lettuce.core.ScanArgs;
import io.lettuce.core.ScanCursor;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * A broker for the management tests: random loopback port, a temp data dir and config tree (tenant
 * {@code demo}), on the embedded default or on a fresh MariaDB database ({@code deputy_t_<random>}, dropped
 * on close) and a random Redis key prefix (deleted on close). Gives an admin token and raw HTTP helpers.
 */
public final class ManageBroker implements AutoCloseable {
    public static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    public static final String MYSQL_SERVER = env("DEPUTY_TEST_MYSQL_URL", "jdbc:mysql://127.0.0.1:3306/");
    public static final String REDIS = env("DEPUTY_TEST_REDIS_URI", "redis://127.0.0.1:6379");

    private final Path root;
    private final EmbeddedServer server;
    private final String database;
    private final String redisPrefix;
    private String token;

    private ManageBroker(Path root, EmbeddedServer server, String database, String redisPrefix) {
        this.root = root;
        this.server = server;
        this.database = database;
        this.redisPrefix = redisPrefix;
    }

    public static Path newRoot() {
        try {
            Path root = Files.createTempDirectory("deputy-manage-");
            // every CLI command of a management test signs in again: off, the default 120 sign-ins a minute from one
            // address made a fast machine's CLI tests answer 429 (RateLimitHttpTest covers the limit itself)
            write(root.resolve("config/broker.yml"), "default_tenant: demo\nrate_limits:\n  admin_token_per_source: off\n");
            write(root.resolve("config/tenants/demo/tenant.yml"), "display_name: Demo\n");
            return root;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static ManageBroker start(Path root, boolean mariadbAndRedis, Map<String, Object> extra) {
        Map<String, Object> props = new HashMap<>();
        props.put("micronaut.server.port", -1);
        props.put("micronaut.server.host", "127.0.0.1");
        props.put("deputy.data-dir", root.resolve("data").toString());
        props.put("deputy.config-dir", root.resolve("config").toString());
        props.put("deputy.public-url", "");
        props.put("deputy.master-key", "");
        props.put("deputy.mysql.url", "");
        props.put("deputy.redis.uri", "");
        props.put("deputy.agents.dormancy-initial-delay", "1h");
        String db = null;
        String prefix = null;
        if (mariadbAndRedis) {
            db = "deputy_t_" + UUID.randomUUID().toString().replace("-", "").substring(0, 16);
            sql("CREATE DATABASE `" + db + "` CHARACTER SET utf8mb4");
            props.put("deputy.mysql.url", MYSQL_SERVER.replaceAll("/[^/]*$", "/") + db);
            props.put("deputy.mysql.user", env("DEPUTY_TEST_MYSQL_USER", "root"));
            props.put("deputy.mysql.password", env("DEPUTY_TEST_MYSQL_PASSWORD", ""));
            prefix = "deputy_t:" + UUID.randomUUID() + ":";
            props.put("deputy.redis.uri", REDIS);
            props.put("deputy.redis.prefix", prefix);
        }
        props.putAll(extra);
        try {
            return new ManageBroker(root, ApplicationContext.run(EmbeddedServer.class, props), db, prefix);
        } catch (RuntimeException e) {
            if (db != null) {
                sql("DROP DATABASE IF EXISTS `" + db + "`");
            }
            throw e;
        }
    }

    public static ManageBroker start(boolean mariadbAndRedis) {
        return start(newRoot(), mariadbAndRedis, Map.of());
    }

    public Path root() {
        return root;
    }

    public Path configDir() {
        return root.resolve("config");
    }

    public Path dataDir() {
        return root.resolve("data");
    }

    public ApplicationContext context() {
        return server.getApplicationContext();
    }

    public <T> T bean(Class<T> type) {
        return context().getBean(type);
    }

    public String url() {
        return "http://127.0.0.1:" + server.getPort();
    }

    /** The bootstrap credential the broker wrote. */
    public Map<String, String> adminCredentials() {
        try {
            return JSON.readValue(dataDir().resolve("admin-credentials.json").toFile(), new TypeReference<>() {
            });
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public synchronized String token() {
        if (token == null) {
            Map<String, String> c = adminCredentials();
            String basic = Base64.getEncoder().encodeToString((c.get("client_id") + ":" + c.get("client_secret"))
                    .getBytes(StandardCharsets.UTF_8));
            HttpResponse<String> r = send(HttpRequest.newBuilder(URI.create(url() + "/admin/token"))
                    .header("Authorization", "Basic " + basic)
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .POST(HttpRequest.BodyPublishers.ofString("grant_type=client_credentials")));
            if (r.statusCode() != 200) {
                throw new IllegalStateException("admin token: " + r.statusCode() + " " + r.body());
            }
            token = (String) json(r.body()).get("access_token");
        }
        return token;
    }

    public HttpResponse<String> get(String path) {
        return send(authed(path).GET());
    }

    public HttpResponse<String> post(String path, String json) {
        return send(authed(path).header("Content-Type", "application/json")
                .POST(json == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(json)));
    }

    public HttpResponse<String> patch(String path, String json) {
        return send(authed(path).header("Content-Type", "application/json")
                .method("PATCH", HttpRequest.BodyPublishers.ofString(json)));
    }

    public HttpResponse<String> put(String path, String json) {
        return send(authed(path).header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString(json)));
    }

    public HttpResponse<String> delete(String path) {
        return send(authed(path).DELETE());
    }

    public HttpRequest.Builder authed(String path) {
        return HttpRequest.newBuilder(URI.create(url() + path)).header("Authorization", "Bearer " + token());
    }

    public HttpResponse<String> send(HttpRequest.Builder request) {
        try {
            return HTTP.send(request.timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    public static Map<String, Object> json(String body) {
        try {
            return JSON.readValue(body, new TypeReference<>() {
            });
        } catch (IOException e) {
            throw new IllegalStateException("not JSON: " + body, e);
        }
    }

    /** Every audit entry of the tenant so far. */
    public List<AuditEntry> audit(String tenant) {
        AuditStore store = bean(AuditStore.class);
        List<AuditEntry> all = new ArrayList<>();
        long from = 1;
        while (true) {
            List<AuditEntry> page = store.range(tenant, from, 500);
            all.addAll(page);
            if (page.size() < 500) {
                return all;
            }
            from = page.get(page.size() - 1).seq() + 1;
        }
    }

    /** The last audit entry of that type for that agent (fails when there is none). */
    public AuditEntry lastAudit(String tenant, String type, String agentId) {
        List<AuditEntry> all = audit(tenant);
        for (int i = all.size() - 1; i >= 0; i--) {
            AuditEntry e = all.get(i);
            if (e.type().equals(type) && (agentId == null || agentId.equals(e.agentId()))) {
                return e;
            }
        }
        throw new AssertionError("no audit entry " + type + " for " + agentId + " in " + all.stream().map(AuditEntry::type).toList());
    }

    public static Path write(Path file, String content) {
        try {
            Files.createDirectories(file.getParent());
            Files.writeString(file, content);
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Stops the broker and keeps its root (config tree and data dir): a later {@link #start} on it is a restart. */
    public void stopKeepingRoot() {
        ApplicationContext ctx = server.getApplicationContext();
        server.stop();
        if (ctx.isRunning()) {
            ctx.close();
        }
    }

    @Override
    public void close() {
        ApplicationContext ctx = server.getApplicationContext();
        try {
            server.stop();
            if (ctx.isRunning()) {
                ctx.close();
            }
        } finally {
            if (database != null) {
                sql("DROP DATABASE IF EXISTS `" + database + "`");
            }
            if (redisPrefix != null) {
                clearRedis(redisPrefix);
            }
            deleteTree(root);
        }
    }

    static void sql(String statement) {
        try (Connection c = DriverManager.getConnection(MYSQL_SERVER, env("DEPUTY_TEST_MYSQL_USER", "root"),
                env("DEPUTY_TEST_MYSQL_PASSWORD", "")); Statement s = c.createStatement()) {
            s.execute(statement);
        } catch (SQLException e) {
            throw new IllegalStateException("MariaDB at " + MYSQL_SERVER + " is not usable: " + e.getMessage(), e);
        }
    }

    private static void clearRedis(String prefix) {
        RedisClient client = RedisClient.create(REDIS);
        try (var conn = client.connect()) {
            ScanCursor cursor = ScanCursor.INITIAL;
            do {
                KeyScanCursor<String> page = conn.sync().scan(cursor, ScanArgs.Builder.matches(prefix + "*").limit(500));
                if (!page.getKeys().isEmpty()) {
                    conn.sync().del(page.getKeys().toArray(String[]::new));
                }
                cursor = page;
            } while (!cursor.isFinished());
        } finally {
            client.shutdown(Duration.ZERO, Duration.ofSeconds(1));
        }
    }

    static void deleteTree(Path root) {
        try (Stream<Path> s = Files.walk(root)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // temp dir
        }
    }

    static String env(String name, String dflt) {
        String v = System.getProperty(name);
        if (v == null || v.isBlank()) {
            v = System.getenv(name);
        }
        return v == null || v.isBlank() ? dflt : v.trim();
    }
}
