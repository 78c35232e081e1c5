package dev.deputy.broker.audit;

import dev.deputy.broker.support.PrivateFiles;
import dev.deputy.broker.config.DeputySettings;
import jakarta.inject.Singleton;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

/**
 * Retention: moves the oldest part of a tenant's chain to a JSONL archive file (the export format, with the
 * checkpoint that signs its last entry and the keys), then deletes it from the table and records an archive
 * marker in the same transaction. Verification of what remains starts from the marker, which the signed
 * checkpoint backs; the archive file verifies on its own with {@link OfflineVerifier}.
 *
 * <p>Deleting agents, users or clients never deletes audit entries: audit_log has no foreign keys and
 * nothing but this explicit command removes rows.
 */
@Singleton
public class AuditRetention {
    private final AuditStore store;
    private final AuditLog log;
    private final AuditVerifier verifier;
    private final AuditCheckpoints checkpoints;
    private final AuditExporter exporter;
    private final Path archiveDir;

    public AuditRetention(AuditStore store, AuditLog log, AuditVerifier verifier, AuditCheckpoints checkpoints,
                          AuditExporter exporter, DeputySettings settings) {
        this(store, log, verifier, checkpoints, exporter, settings.dataDir().resolve("audit-archive"));
    }

    public AuditRetention(AuditStore store, AuditLog log, AuditVerifier verifier, AuditCheckpoints checkpoints,
                          AuditExporter exporter, Path archiveDir) {
        this.store = store;
        this.log = log;
        this.verifier = verifier;
        this.checkpoints = checkpoints;
        this.exporter = exporter;
        this.archiveDir = archiveDir;
    }

    /** Refused: nothing to archive, or the chain does not verify. */
    public static final class Refused extends RuntimeException {
        public Refused(String message) {
            super(message);
        }
    }

    /**
     * Archives entries older than {@code beforeMs} (by time) or up to {@code throughSeq} (by position); the
     * newest entry is never archived (the chain needs a live head).
     */
    public AuditArchive archive(String tenantId, Long beforeMs, Long throughSeq) {
        long first = store.firstSeq(tenantId).orElseThrow(() -> new Refused("the chain is empty"));
        AuditEntry.Head head = log.head(tenantId);
        long to;
        if (throughSeq != null) {
            to = throughSeq;
        } else if (beforeMs != null) {
            to = lastBefore(tenantId, first, beforeMs);
        } else {
            throw new Refused("give older_than or through_seq");
        }
        to = Math.min(to, head.seq() - 1);
        if (to < first) {
            throw new Refused("nothing to archive");
        }
        AuditVerifier.Report r = verifier.verifyRange(tenantId, first, to);
        if (!r.ok()) {
            throw new Refused("the chain does not verify, nothing archived: " + r.message());
        }
        AuditEntry last = store.range(tenantId, to, 1).get(0);
        // a signed checkpoint exactly at the archive's end: the anchor of everything after it
        AuditCheckpoint cp = store.checkpoints(tenantId, to, to, 10).stream().findFirst()
                .orElseGet(() -> checkpoints.checkpointAt(tenantId, last.seq(), last.hash()));
        try {
            PrivateFiles.directory(archiveDir);
            Path dir = PrivateFiles.directory(archiveDir.resolve(tenantId));
            String name = tenantId + "-" + first + "-" + to + ".jsonl";
            Path tmp = dir.resolve(name + ".tmp");
            Files.deleteIfExists(tmp);
            PrivateFiles.createFile(tmp); // 0600: an archive is the tenant's audit trail
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            try (OutputStream out = new DigestOutputStream(new java.io.BufferedOutputStream(Files.newOutputStream(tmp), 1 << 16), sha)) {
                exporter.exportJsonl(tenantId, first, to, out);
            }
            Path file = dir.resolve(name);
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            AuditArchive marker = new AuditArchive(tenantId, first, to, last.hash(), System.currentTimeMillis(),
                    to - first + 1, file.toString(), HexFormat.of().formatHex(sha.digest()));
            store.archive(marker);
            log.append(AuditEvent.of(tenantId, EventTypes.AUDIT_ARCHIVED, AuditEvent.Outcome.SUCCESS)
                    .detail("from_seq", first).detail("to_seq", to).detail("entries", marker.entries())
                    .detail("file", file.getFileName().toString()).detail("file_sha256", marker.fileSha256())
                    .detail("checkpoint_seq", cp.seq()).build());
            return marker;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private long lastBefore(String tenantId, long first, long beforeMs) {
        // the prefix up to the first entry at or after the cut (never archives anything newer than it)
        return store.firstSeqAtOrAfter(tenantId, beforeMs).map(s -> s - 1).orElse(Long.MAX_VALUE);
    }

    public List<AuditArchive> archives(String tenantId) {
        return store.archives(tenantId);
    }

    public Optional<Path> archiveDir() {
        return Optional.of(archiveDir);
    }
}
