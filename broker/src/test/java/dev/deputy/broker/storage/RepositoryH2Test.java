package dev.deputy.broker.storage;

import java.nio.file.Path;

/** The repository contract on H2 in MySQL mode (the embedded default). */
class RepositoryH2Test extends RepositoryContract {
    @Override
    StorageBackend open(Path dataDir) {
        return StorageBackend.h2(dataDir);
    }

    @Override
    String expectedDialect() {
        return "h2";
    }
}
