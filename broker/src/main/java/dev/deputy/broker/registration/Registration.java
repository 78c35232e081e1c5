package dev.deputy.broker.registration;

/**
 * What RFC 7591/7592 keeps beside the client row: the accepted metadata (JSON object as echoed to the client),
 * the SHA-256 (hex) of the registration access token, issue time and first use (null: never used).
 */
public record Registration(String tenantId, String clientId, String metadataJson, String accessTokenHash,
                           long issuedAt, Long usedAt) {
}
