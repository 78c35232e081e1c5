package dev.deputy.broker.storage;

import java.nio.file.Path;

/** {@link ConsoleAggregatesContract} on the embedded default (H2 in MySQL mode). */
class ConsoleAggregatesH2Test extends ConsoleAggregatesContract {
    @Override
    StorageBackend open(Path dataDir) {
        return StorageBackend.h2(dataDir);
    }
}
