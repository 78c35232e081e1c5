package dev.deputy.broker.federation;

import java.util.List;

/**
 * A human, created just in time on first upstream login and linked by (connector, upstream {@code iss},
 * upstream {@code sub}). Deputy never invents a user identity: tokens carry {@code upstreamSub} byte for byte.
 *
 * @param roles Deputy roles from the connector's group → role mapping at the last login
 */
public record User(String tenantId, String id, String connectorId, String upstreamIss, String upstreamSub, String email,
                   String name, List<String> groups, List<String> roles, Status status, long createdAt,
                   long lastLoginAt) {

    public enum Status { ACTIVE, SUSPENDED }

    public User {
        groups = groups == null ? List.of() : List.copyOf(groups);
        roles = roles == null ? List.of() : List.copyOf(roles);
    }

    public boolean active() {
        return status == Status.ACTIVE;
    }
}
