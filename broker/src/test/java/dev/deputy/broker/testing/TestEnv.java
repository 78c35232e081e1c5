package dev.deputy.broker.testing;

import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Settings for tests that need real services, read from a system property, else the environment
 * variable of the same name, else the default that matches {@code scripts/services}:
 * <ul>
 *   <li>{@code DEPUTY_TEST_MYSQL_URL} — server URL without a database, default {@code jdbc:mysql://127.0.0.1:3306/}</li>
 *   <li>{@code DEPUTY_TEST_MYSQL_USER} / {@code DEPUTY_TEST_MYSQL_PASSWORD} — default {@code root} / empty</li>
 *   <li>{@code DEPUTY_TEST_REDIS_URI} — default {@code redis://127.0.0.1:6379}</li>
 *   <li>{@code DEPUTY_TEST_RUN_ID} — names this run's databases and Redis prefixes; generated when unset</li>
 * </ul>
 * A test never skips itself when a service is unreachable: it fails, naming the service and the setting.
 */
public final class TestEnv {
    private static final AtomicInteger COUNTER = new AtomicInteger();
    private static final String RUN_ID = computeRunId();

    private TestEnv() {
    }

    public static String setting(String name, String dflt) {
        String v = System.getProperty(name);
        if (v == null || v.isBlank()) {
            v = System.getenv(name);
        }
        return v == null || v.isBlank() ? dflt : v.trim();
    }

    private static String computeRunId() {
        String given = setting("DEPUTY_TEST_RUN_ID", null);
        String id = given != null ? given
                : LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyMMddHHmmss")) + "_" + ProcessHandle.current().pid();
        // database names and Redis prefixes: keep it to [a-z0-9_]
        return id.toLowerCase().replaceAll("[^a-z0-9_]", "_");
    }

    /** This run's id: {@code DEPUTY_TEST_RUN_ID}, or a timestamp and the JVM's pid. */
    public static String runId() {
        return RUN_ID;
    }

    /** A number unique within this JVM, for names derived from the run id. */
    public static int next() {
        return COUNTER.incrementAndGet();
    }

    public static String mysqlUrl() {
        return setting("DEPUTY_TEST_MYSQL_URL", "jdbc:mysql://127.0.0.1:3306/");
    }

    public static String mysqlUser() {
        return setting("DEPUTY_TEST_MYSQL_USER", "root");
    }

    public static String mysqlPassword() {
        return setting("DEPUTY_TEST_MYSQL_PASSWORD", "");
    }

    public static String redisUri() {
        return setting("DEPUTY_TEST_REDIS_URI", "redis://127.0.0.1:6379");
    }
}
