package dev.deputy.broker.grant.refresh;

import java.util.List;

/**
 * One refresh token, by the SHA-256 of its value. All tokens rotated from one authorization code share a
 * {@code familyId}. {@code accessJti} is the access token issued together with it (revoked with the family).
 * {@code actor} is the agent the family's tokens name as {@code act.sub} (bound at the code redemption), or null.
 */
public record RefreshToken(String tokenHash, String tenantId, String familyId, String clientId, String userId,
                           String resource, List<String> scopes, String accessJti, Long accessExpiresAt,
                           Status status, long createdAt, long expiresAt, Long usedAt, String actor) {
    public enum Status { ACTIVE, USED, REVOKED }

    public RefreshToken {
        scopes = scopes == null ? List.of() : List.copyOf(scopes);
    }
}
