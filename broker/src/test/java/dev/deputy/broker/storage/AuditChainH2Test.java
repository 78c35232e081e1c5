package dev.deputy.broker.storage;

import java.nio.file.Path;

/** The audit chain contract on H2 (the embedded default). */
class AuditChainH2Test extends AuditChainContract {
    @Override
    StorageBackend open(Path dataDir) {
        return StorageBackend.h2(dataDir);
    }
}
