package dev.deputy.broker.testing;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * A database of its own on the test MariaDB/MySQL server ({@code deputy_t_<run id>_<n>}), created on
 * {@link #create()} and dropped on {@link #close()}. An unreachable server fails the test.
 */
public final class MariaDbDatabase implements AutoCloseable {
    private final String serverUrl;
    private final String name;

    private MariaDbDatabase(String serverUrl, String name) {
        this.serverUrl = serverUrl;
        this.name = name;
    }

    public static MariaDbDatabase create() {
        return create(TestEnv.mysqlUrl());
    }

    public static MariaDbDatabase create(String serverUrl) {
        String name = "deputy_t_" + TestEnv.runId() + "_" + TestEnv.next();
        MariaDbDatabase db = new MariaDbDatabase(serverUrl, name);
        db.exec("CREATE DATABASE `" + name + "` CHARACTER SET utf8mb4");
        return db;
    }

    public String name() {
        return name;
    }

    /** The JDBC URL of this database (the server URL with the database name as its path). */
    public String jdbcUrl() {
        return withDatabase(serverUrl, name);
    }

    public String user() {
        return TestEnv.mysqlUser();
    }

    public String password() {
        return TestEnv.mysqlPassword();
    }

    static String withDatabase(String serverUrl, String db) {
        int q = serverUrl.indexOf('?');
        String base = q < 0 ? serverUrl : serverUrl.substring(0, q);
        String query = q < 0 ? "" : serverUrl.substring(q);
        // jdbc:mysql://host:port[/][db]
        int slash = base.indexOf('/', "jdbc:mysql://".length());
        String hostPart = slash < 0 ? base : base.substring(0, slash);
        return hostPart + "/" + db + query;
    }

    private void exec(String sql) {
        try (Connection c = DriverManager.getConnection(serverUrl, TestEnv.mysqlUser(), TestEnv.mysqlPassword());
             Statement s = c.createStatement()) {
            s.execute(sql);
        } catch (SQLException e) {
            throw new IllegalStateException("MariaDB/MySQL at " + serverUrl + " (DEPUTY_TEST_MYSQL_URL) is not usable: "
                    + e.getMessage() + " — start it with scripts/services", e);
        }
    }

    @Override
    public void close() {
        exec("DROP DATABASE IF EXISTS `" + name + "`");
    }
}
