package dev.deputy.broker.storage;

import java.nio.file.Path;

/** The repository contract on a real MariaDB ({@code DEPUTY_TEST_MYSQL_URL}); fails if it is unreachable. */
class RepositoryMariaDbTest extends RepositoryContract {
    @Override
    StorageBackend open(Path dataDir) {
        return StorageBackend.mariaDb(dataDir);
    }

    @Override
    String expectedDialect() {
        return "mariadb";
    }
}
