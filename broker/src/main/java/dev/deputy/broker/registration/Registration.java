package dev.deputy.broker.registration;

/**
 * What RFC 7591/7592 keeps beside the client row: the accepted metadata (JSON object as echoed to the client),
 * the SHA-256 (hex) of the registration access token, issue time, the last time a token was issued to the client
 * (null: never) and the source address that registered it (null when unknown).
 */
public record Registration(String tenantId, String clientId, String metadataJson, String accessTokenHash,
                           long issuedAt, Long usedAt, String sourceAddress) {
    /** When this registration expires under {@code policy}: by last use, or sooner when it was never used. */
    public long expiresAt(RegistrationPolicy policy) {
        return usedAt == null ? issuedAt + policy.pendingExpiry().toMillis() : usedAt + policy.unusedExpiry().toMillis();
    }
}
