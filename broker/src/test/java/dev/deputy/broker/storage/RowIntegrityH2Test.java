package dev.deputy.broker.storage;

import org.flywaydb.core.Flyway;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;

/** Row integrity on H2 in MySQL mode (the embedded default). */
class RowIntegrityH2Test extends RowIntegrityContract {
    @Override
    StorageBackend open(Path dataDir) {
        return StorageBackend.h2(dataDir);
    }

    @Override
    StorageBackend upgradeFrom(String version, Path dataDir, Seed seed) throws Exception {
        // the broker's own H2 URL (Database), migrated only up to the older version, as a previous release left it
        String url = "jdbc:h2:file:" + dataDir.resolve("deputy")
                + ";MODE=MySQL;DATABASE_TO_LOWER=TRUE;CASE_INSENSITIVE_IDENTIFIERS=TRUE";
        Flyway.configure().dataSource(url, "sa", "").locations("classpath:db/migration").target(version).load().migrate();
        try (Connection c = DriverManager.getConnection(url, "sa", "")) {
            seed.accept(c);
        }
        return StorageBackend.h2(dataDir);
    }
}
