package dev.deputy.broker.storage;

import java.nio.file.Path;

/** {@link AgentPageContract} on a real MariaDB ({@code DEPUTY_TEST_MYSQL_URL}). */
class AgentPageMariaDbTest extends AgentPageContract {
    @Override
    StorageBackend open(Path dataDir) {
        return StorageBackend.mariaDb(dataDir);
    }
}
