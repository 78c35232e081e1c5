package dev.deputy.broker.storage;

import org.flywaydb.core.api.MigrationVersion;
import org.flywaydb.core.api.migration.Context;
import org.flywaydb.core.api.migration.JavaMigration;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/**
 * V160: identifiers compare byte for byte on MySQL and MariaDB, as they always did on H2.
 *
 * <p>A database created with the server's default collation ({@code utf8mb4_general_ci} on MariaDB,
 * {@code utf8mb4_0900_ai_ci} on MySQL 8) compares text case- and accent-insensitively and ignores trailing spaces:
 * {@code zoë-app}, {@code ZOE-APP} and {@code zoe-app } are one key. A client id, an upstream {@code sub}
 * (RFC 7519 §4.1.2: case-sensitive), a {@code jti} or a tenant id would then match a different principal's row, or
 * refuse a distinct one as a duplicate. This migration sets the schema default and every table to the binary,
 * no-pad collation of the server ({@code utf8mb4_nopad_bin} on MariaDB, {@code utf8mb4_0900_bin} on MySQL 8,
 * {@code utf8mb4_bin} otherwise). Stored bytes do not change (same character set), so the audit chain's hashes
 * stay valid. H2 (the embedded default) compares binary already: nothing to do there.
 *
 * <p>A Java migration because the statements differ per engine (and H2 has no {@code CONVERT TO}); run once, like
 * every Flyway migration. On a large existing {@code audit_log} the table is rebuilt: plan the upgrade like any
 * {@code ALTER TABLE} of that size (docs/deployment.md).
 */
final class IdentifierCollation implements JavaMigration {

    @Override
    public MigrationVersion getVersion() {
        return MigrationVersion.fromVersion("160");
    }

    @Override
    public String getDescription() {
        return "identifiers compare as bytes (binary no-pad collation on MySQL and MariaDB)";
    }

    @Override
    public Integer getChecksum() {
        return 160_001;
    }

    @Override
    public boolean canExecuteInTransaction() {
        // MySQL DDL commits implicitly anyway
        return false;
    }

    @Override
    public void migrate(Context context) throws Exception {
        Connection c = context.getConnection();
        String product = c.getMetaData().getDatabaseProductName().toLowerCase();
        String version = c.getMetaData().getDatabaseProductVersion().toLowerCase();
        if (!product.contains("mysql") && !product.contains("mariadb")) {
            return; // H2: VARCHAR comparison is already exact
        }
        String collation = collation(c, version.contains("mariadb") || product.contains("mariadb"));
        try (Statement st = c.createStatement()) {
            st.execute("ALTER DATABASE CHARACTER SET utf8mb4 COLLATE " + collation);
            for (String table : tables(c)) {
                st.execute("ALTER TABLE `" + table + "` CONVERT TO CHARACTER SET utf8mb4 COLLATE " + collation);
            }
        }
    }

    /** The binary collation without PAD SPACE the server has, else plain {@code utf8mb4_bin}. */
    static String collation(Connection c, boolean mariaDb) throws SQLException {
        for (String candidate : mariaDb ? List.of("utf8mb4_nopad_bin") : List.of("utf8mb4_0900_bin", "utf8mb4_nopad_bin")) {
            try (var ps = c.prepareStatement("SELECT COUNT(*) FROM information_schema.collations WHERE collation_name = ?")) {
                ps.setString(1, candidate);
                try (ResultSet rs = ps.executeQuery()) {
                    if (rs.next() && rs.getInt(1) == 1) {
                        return candidate;
                    }
                }
            }
        }
        return "utf8mb4_bin";
    }

    private static List<String> tables(Connection c) throws SQLException {
        List<String> out = new ArrayList<>();
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE()"
                        + " AND table_type = 'BASE TABLE' AND table_name <> 'flyway_schema_history'")) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }
}
