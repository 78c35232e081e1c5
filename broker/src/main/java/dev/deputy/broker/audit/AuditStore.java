package dev.deputy.broker.audit;

import java.util.List;
import java.util.Optional;

/** Durable, append-only storage of the chain (port; implemented in storage). */
public interface AuditStore {
    /** The last entry of the tenant's chain. */
    Optional<AuditEntry> head(String tenantId);

    /**
     * Inserts entries that continue the chain. Throws {@link SeqConflict} when another writer (another node)
     * took one of the sequence numbers first; nothing is written then.
     */
    void insert(List<AuditEntry> entries);

    /** Entries with seq ≥ fromSeq in order, at most limit. */
    List<AuditEntry> range(String tenantId, long fromSeq, int limit);

    /** Any entry whose hash is this one (used only to explain a broken chain). */
    Optional<AuditEntry> findByHash(String tenantId, String hash);

    class SeqConflict extends RuntimeException {
        public SeqConflict(Throwable cause) {
            super("audit sequence taken by another writer", cause);
        }
    }
}
