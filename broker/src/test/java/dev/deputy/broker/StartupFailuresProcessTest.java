package dev.deputy.broker;

import dev.deputy.broker.testing.ConfigFixture;
import dev.deputy.broker.testing.MariaDbDatabase;
import dev.deputy.broker.testing.PrivateServer;
import dev.deputy.broker.testing.TestEnv;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Start-up failures that explain themselves, on a real broker process, one message each: a wrong or malformed
 * master key, an unknown MySQL database (created when the user may, else named with the fix), refused credentials,
 * an unreachable MySQL or Redis (address and cause, reported at once). Each failing start exits with 2 and one line,
 * no stack trace.
 */
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class StartupFailuresProcessTest {
    static final String KEY_A = Base64.getEncoder().encodeToString(new byte[32]);
    static final String KEY_B = Base64.getEncoder().encodeToString("another master key of 32 bytes!!".getBytes());

    @TempDir
    Path tmp;

    record Run(int exit, String output) {
    }

    Process launch(Map<String, String> extra, Path out) throws IOException {
        Path config = tmp.resolve("config");
        if (!Files.exists(config)) {
            ConfigFixture.copyOfShipped(Files.createDirectories(config));
        }
        String java = ProcessHandle.current().info().command().orElse(System.getProperty("java.home") + "/bin/java");
        ProcessBuilder pb = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED", "-Xshare:auto",
                "-cp", System.getProperty("java.class.path"), Application.class.getName());
        Map<String, String> env = pb.environment();
        env.keySet().removeIf(k -> k.startsWith("DEPUTY_") && !k.startsWith("DEPUTY_TEST_"));
        env.put("DEPUTY_CONFIG_DIR", config.toString());
        env.put("DEPUTY_DATA_DIR", tmp.resolve("data").toString());
        env.put("DEPUTY_HTTP_PORT", Integer.toString(PrivateServer.sparePort()));
        env.put("DEPUTY_HTTPS_PORT", "off");
        env.putAll(extra);
        return pb.redirectErrorStream(true).redirectOutput(out.toFile()).start();
    }

    /** Starts and expects the start to fail. */
    Run failing(Map<String, String> extra) throws Exception {
        Path out = Files.createTempFile(tmp, "out", ".txt");
        Process p = launch(extra, out);
        try {
            assertTrue(p.waitFor(120, TimeUnit.SECONDS), "did not exit:\n" + Files.readString(out));
        } finally {
            p.destroyForcibly();
        }
        String output = Files.readString(out);
        assertEquals(2, p.exitValue(), output);
        assertFalse(output.contains("\tat "), "no stack trace:\n" + output);
        return new Run(p.exitValue(), output);
    }

    /** Starts until the issuer line, then stops with SIGTERM. */
    String starting(Map<String, String> extra) throws Exception {
        Path out = Files.createTempFile(tmp, "out", ".txt");
        Process p = launch(extra, out);
        try {
            awaitLine(p, out, "issuer http://");
        } finally {
            p.destroy();
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "did not stop");
        }
        return Files.readString(out);
    }

    static void awaitLine(Process p, Path out, String text) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (!Files.readString(out).contains(text)) {
            assertTrue(p.isAlive(), "exited before '" + text + "':\n" + Files.readString(out));
            assertTrue(System.nanoTime() < deadline, "no '" + text + "':\n" + Files.readString(out));
            Thread.sleep(50);
        }
    }

    @Test
    void wrongMasterKeySaysSo() throws Exception {
        starting(Map.of("DEPUTY_MASTER_KEY", KEY_A));
        Run r = failing(Map.of("DEPUTY_MASTER_KEY", KEY_B));
        // the row-integrity check (issue 13) says it before any sealed secret is opened; without it, SecretBox's
        // "cannot open sealed secret (wrong master key or tampered row)" — never the library's "Tag mismatch"
        assertTrue(r.output().contains("deputy: failed to start: wrong master key: ")
                        || r.output().contains("deputy: failed to start: cannot open sealed secret (wrong master key or tampered row)"),
                r.output());
        assertFalse(r.output().toLowerCase().contains("tag mismatch"), r.output());
    }

    @Test
    void masterKeyThatIsNotBase64SaysWhatFormIsExpected() throws Exception {
        Run r = failing(Map.of("DEPUTY_MASTER_KEY", "my secret päss phrase"));
        assertTrue(r.output().contains("deputy: failed to start: DEPUTY_MASTER_KEY is not valid base64 (21 characters):"
                + " expected base64 of 32 random bytes (44 characters ending in '=', e.g. from: head -c 32 /dev/urandom | base64)"),
                r.output());
        assertFalse(r.output().contains("päss"), "the value is never echoed:\n" + r.output());
    }

    @Test
    void masterKeyOfTheWrongLengthSaysWhatFormIsExpected() throws Exception {
        Run r = failing(Map.of("DEPUTY_MASTER_KEY", Base64.getEncoder().encodeToString(new byte[16])));
        assertTrue(r.output().contains("deputy: failed to start: DEPUTY_MASTER_KEY decodes to 16 bytes, not 32 bytes:"
                + " expected base64 of 32 random bytes"), r.output());
    }

    @Test
    void unknownDatabaseIsCreatedWhenTheUserMay() throws Exception {
        String name = "deputy_t_" + TestEnv.runId() + "_new" + TestEnv.next();
        try {
            String output = starting(Map.of("DEPUTY_MYSQL_URL", withDatabase(name), "DEPUTY_MYSQL_USER", TestEnv.mysqlUser(),
                    "DEPUTY_MYSQL_PASSWORD", TestEnv.mysqlPassword(), "DEPUTY_MASTER_KEY", KEY_A));
            assertTrue(output.contains("database '" + name + "' did not exist; created it"), output);
            assertTrue(output.contains("durable store: mariadb") || output.contains("durable store: mysql"), output);
        } finally {
            root("DROP DATABASE IF EXISTS `" + name + "`");
        }
    }

    @Test
    void unknownDatabaseTheUserMayNotCreateSaysSoAndHowToFixIt() throws Exception {
        String name = "deputy_t_" + TestEnv.runId() + "_absent" + TestEnv.next();
        String user = "dt_" + TestEnv.runId() + "_" + TestEnv.next();
        user = user.length() > 32 ? user.substring(0, 32) : user;
        root("CREATE USER '" + user + "'@'%' IDENTIFIED BY 'pw-only-usage'");
        try {
            Run r = failing(Map.of("DEPUTY_MYSQL_URL", withDatabase(name), "DEPUTY_MYSQL_USER", user,
                    "DEPUTY_MYSQL_PASSWORD", "pw-only-usage", "DEPUTY_MASTER_KEY", KEY_A));
            assertTrue(r.output().contains("deputy: failed to start: MySQL at " + address() + " has no database '" + name
                    + "' that user '" + user + "' may use, and the user may not create it (Access denied"), r.output());
            assertTrue(r.output().contains("create it with CREATE DATABASE `" + name + "` CHARACTER SET utf8mb4 and grant it to '"
                    + user + "'"), r.output());
            assertFalse(r.output().contains("not reachable"), r.output());
            assertFalse(r.output().contains("pw-only-usage"), r.output());
        } finally {
            root("DROP USER IF EXISTS '" + user + "'@'%'");
            root("DROP DATABASE IF EXISTS `" + name + "`");
        }
    }

    @Test
    void refusedCredentialsAreReportedAtOnce() throws Exception {
        try (MariaDbDatabase db = MariaDbDatabase.create()) {
            Run r = failing(Map.of("DEPUTY_MYSQL_URL", db.jdbcUrl(), "DEPUTY_MYSQL_USER", "no_such_user_ü",
                    "DEPUTY_MYSQL_PASSWORD", "wrong password", "DEPUTY_MASTER_KEY", KEY_A));
            assertTrue(r.output().contains("deputy: failed to start: MySQL at " + address() + " refused user 'no_such_user_ü': Access denied"),
                    r.output());
            assertTrue(r.output().contains("(check DEPUTY_MYSQL_URL, DEPUTY_MYSQL_USER and DEPUTY_MYSQL_PASSWORD)"), r.output());
            assertFalse(r.output().contains("retrying"), "no wait for a refusal:\n" + r.output());
        }
    }

    @Test
    void unreachableMySqlGivesAddressAndCause() throws Exception {
        int port = PrivateServer.sparePort();
        Map<String, String> env = new HashMap<>(Map.of("DEPUTY_MYSQL_URL", "jdbc:mysql://127.0.0.1:" + port + "/deputy",
                "DEPUTY_MASTER_KEY", KEY_A));
        // with the default wait: reported at once, while it keeps trying
        Path out = Files.createTempFile(tmp, "out", ".txt");
        Process p = launch(env, out);
        try {
            awaitLine(p, out, "MySQL at 127.0.0.1:" + port + " is not reachable yet (Connection refused); retrying for 30 s");
        } finally {
            p.destroyForcibly();
            p.waitFor(30, TimeUnit.SECONDS);
        }
        env.put("DEPUTY_STARTUP_WAIT", "0s");
        Run r = failing(env);
        assertTrue(r.output().contains("deputy: failed to start: MySQL at 127.0.0.1:" + port + " is not reachable: Connection refused"),
                r.output());
    }

    @Test
    void unreachableRedisGivesAddressAndCause() throws Exception {
        int port = PrivateServer.sparePort();
        Map<String, String> env = new HashMap<>(Map.of("DEPUTY_REDIS_URI", "redis://:hunter2@127.0.0.1:" + port));
        Path out = Files.createTempFile(tmp, "out", ".txt");
        Process p = launch(env, out);
        try {
            awaitLine(p, out, "Redis at 127.0.0.1:" + port + " is not reachable yet (Connection refused); retrying for 30 s");
        } finally {
            p.destroyForcibly();
            p.waitFor(30, TimeUnit.SECONDS);
        }
        env.put("DEPUTY_STARTUP_WAIT", "0s");
        Run r = failing(env);
        assertTrue(r.output().contains("deputy: failed to start: Redis at 127.0.0.1:" + port + " is not reachable: Connection refused"),
                r.output());
        assertFalse(r.output().contains("hunter2"), r.output());
    }

    // ---- helpers

    static String withDatabase(String db) {
        String server = TestEnv.mysqlUrl();
        int q = server.indexOf('?');
        String base = q < 0 ? server : server.substring(0, q);
        int slash = base.indexOf('/', "jdbc:mysql://".length());
        return (slash < 0 ? base : base.substring(0, slash)) + "/" + db + (q < 0 ? "" : server.substring(q));
    }

    static String address() {
        String base = TestEnv.mysqlUrl().substring("jdbc:mysql://".length());
        int end = base.indexOf('/');
        if (end < 0) {
            end = base.indexOf('?');
        }
        String hp = end < 0 ? base : base.substring(0, end);
        return hp.contains(":") ? hp : hp + ":3306";
    }

    static void root(String sql) throws SQLException {
        try (Connection c = DriverManager.getConnection(TestEnv.mysqlUrl(), TestEnv.mysqlUser(), TestEnv.mysqlPassword());
             Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }
}
