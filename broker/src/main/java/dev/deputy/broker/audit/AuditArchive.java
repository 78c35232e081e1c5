package dev.deputy.broker.audit;

/** Marker of a range moved out of the table into an archive file (retention). */
public record AuditArchive(String tenantId, long fromSeq, long toSeq, String toHash, long atMs, long entries,
                           String fileName, String fileSha256) {
}
