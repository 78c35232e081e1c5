package dev.deputy.broker.storage;

import dev.deputy.broker.testing.MariaDbDatabase;
import org.flywaydb.core.Flyway;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;

/** Row integrity on a real MariaDB (a database of its own, dropped after). */
class RowIntegrityMariaDbTest extends RowIntegrityContract {
    @Override
    StorageBackend open(Path dataDir) {
        return StorageBackend.mariaDb(dataDir);
    }

    @Override
    StorageBackend upgradeFrom(String version, Path dataDir, Seed seed) throws Exception {
        MariaDbDatabase db = MariaDbDatabase.create();
        try {
            Flyway.configure().dataSource(db.jdbcUrl(), db.user(), db.password()).locations("classpath:db/migration")
                    .target(version).load().migrate();
            try (Connection c = DriverManager.getConnection(db.jdbcUrl(), db.user(), db.password())) {
                seed.accept(c);
            }
        } catch (Exception e) {
            db.close();
            throw e;
        }
        return StorageBackend.mariaDb(dataDir, db);
    }
}
