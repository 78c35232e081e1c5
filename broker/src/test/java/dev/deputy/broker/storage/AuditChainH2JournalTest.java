package dev.deputy.broker.storage;

import java.nio.file.Path;

/**
 * The audit chain contract on H2 with the write-ahead journal, as the embedded broker runs it: small segments and
 * index batches so that rotation, segment deletion and several index passes happen within the contract's appends.
 */
class AuditChainH2JournalTest extends AuditChainContract {
    @Override
    StorageBackend open(Path dataDir) {
        return StorageBackend.h2Journaled(dataDir, new AuditJournal.Limits(4096, 64, 20, 1_000, 10_000));
    }
}
