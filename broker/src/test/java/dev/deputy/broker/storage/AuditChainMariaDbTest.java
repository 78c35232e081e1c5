package dev.deputy.broker.storage;

import java.nio.file.Path;

/** The audit chain contract on a real MariaDB ({@code DEPUTY_TEST_MYSQL_URL}); fails if it is unreachable. */
class AuditChainMariaDbTest extends AuditChainContract {
    @Override
    StorageBackend open(Path dataDir) {
        return StorageBackend.mariaDb(dataDir);
    }
}
