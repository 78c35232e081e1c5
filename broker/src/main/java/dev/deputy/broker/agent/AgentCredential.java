package dev.deputy.broker.agent;

/**
 * A credential of an agent.
 *
 * @param kind       {@code CA_CERT} (issued by the tenant's agent CA), {@code PINNED_CERT} (self-signed, pinned by
 *                   thumbprint), {@code JWKS} (inline public JWK Set), {@code JWKS_URI}
 * @param thumbprint base64url SHA-256 of the DER certificate ({@code x5t#S256}) for certificate kinds
 * @param serial     certificate serial (hex) for CA-issued certificates (CRL entries)
 * @param material   PEM certificate, JWK Set JSON or the jwks_uri
 * @param validUntil during rotation: the old credential works until then; null = no end beyond not_after
 */
public record AgentCredential(String tenantId, String id, String agentId, Kind kind, String thumbprint, String serial,
                              String material, Long notBefore, Long notAfter, Long validUntil, Status status,
                              long createdAt) {
    public enum Kind { CA_CERT, PINNED_CERT, JWKS, JWKS_URI }

    public enum Status { ACTIVE, REVOKED }

    /** Whether the credential may be used at {@code now} (status, certificate validity and rotation overlap). */
    public boolean usableAt(long now) {
        return status == Status.ACTIVE
                && (notBefore == null || notBefore <= now)
                && (notAfter == null || now < notAfter)
                && (validUntil == null || now < validUntil);
    }
}
