package dev.deputy.broker.storage;

import java.nio.file.Path;

/** Row integrity on a real MariaDB (a database of its own, dropped after). */
class RowIntegrityMariaDbTest extends RowIntegrityContract {
    @Override
    StorageBackend open(Path dataDir) {
        return StorageBackend.mariaDb(dataDir);
    }
}
