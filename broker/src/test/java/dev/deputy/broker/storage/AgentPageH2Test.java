package dev.deputy.broker.storage;

import java.nio.file.Path;

/** {@link AgentPageContract} on H2 (the embedded default). */
class AgentPageH2Test extends AgentPageContract {
    @Override
    StorageBackend open(Path dataDir) {
        return StorageBackend.h2(dataDir);
    }
}
