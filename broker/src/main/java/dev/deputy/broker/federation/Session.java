package dev.deputy.broker.federation;

import java.util.List;

/**
 * A human login session at the broker (ephemeral store, keyed by the SHA-256 of the cookie value).
 *
 * @param upstreamIss the upstream {@code iss} (becomes {@code sub_id.iss})
 * @param upstreamSub the upstream {@code sub}, byte for byte
 * @param expiresAt   absolute end (epoch ms): never beyond the upstream ID token's {@code exp} or the configured cap
 */
public record Session(String tenantId, String userId, String connectorId, String upstreamIss, String upstreamSub,
                      String email, String name, List<String> groups, List<String> roles, long authTime,
                      long expiresAt) {
    public Session {
        groups = groups == null ? List.of() : List.copyOf(groups);
        roles = roles == null ? List.of() : List.copyOf(roles);
    }
}
