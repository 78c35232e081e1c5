package dev.deputy.broker.audit;

/**
 * A signed checkpoint: the tenant's chain had {@code headHash} at {@code seq}. {@code jws} is a compact JWS
 * ({@code typ: deputy-audit-checkpoint+jwt}) over {@code {tenant, seq, head, iat, keys}} by the tenant's
 * signing key {@code kid}; {@code publicJwk} is that key's public part.
 */
public record AuditCheckpoint(String tenantId, long seq, String headHash, long atMs, String kid, String publicJwk,
                              String jws) {
}
