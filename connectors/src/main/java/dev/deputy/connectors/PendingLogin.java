package dev.deputy.connectors;

import java.net.URI;
import java.time.Instant;

/**
 * What the broker keeps (ephemeral store, keyed by {@code state}) between {@code beginLogin} and the
 * callback. All fields are plain strings so the record serialises trivially. Contains a PKCE verifier:
 * store it server-side only and never log it.
 */
public record PendingLogin(String connectorId, String state, String nonce, String codeVerifier,
                           URI redirectUri, Instant createdAt) {

    @Override
    public String toString() {
        return "PendingLogin[connectorId=" + connectorId + ", redirectUri=" + redirectUri + ", createdAt=" + createdAt + "]";
    }
}
