package dev.deputy.broker.storage;

import java.nio.file.Path;

/** Row integrity on H2 in MySQL mode (the embedded default). */
class RowIntegrityH2Test extends RowIntegrityContract {
    @Override
    StorageBackend open(Path dataDir) {
        return StorageBackend.h2(dataDir);
    }
}
