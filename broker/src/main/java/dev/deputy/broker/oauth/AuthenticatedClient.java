package dev.deputy.broker.oauth;

/**
 * The caller at the token endpoint after client authentication.
 *
 * @param clientId         the OAuth {@code client_id} (for an agent: its agent id)
 * @param agentId          the agent this client is, or acts for; null for a plain client
 * @param method           how it authenticated: {@code tls_client_auth}, {@code self_signed_tls_client_auth},
 *                         {@code private_key_jwt}, {@code client_secret_basic}, {@code client_secret_post}, {@code none}
 * @param certThumbprint   base64url SHA-256 of the client certificate (RFC 8705 {@code x5t#S256}) when it used mTLS
 * @param internal         pre-approved by the tenant (no consent)
 */
public record AuthenticatedClient(String clientId, String agentId, String method, String certThumbprint,
                                  boolean internal) {
    public boolean isPublic() {
        return "none".equals(method);
    }
}
