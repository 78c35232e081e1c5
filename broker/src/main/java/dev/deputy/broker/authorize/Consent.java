package dev.deputy.broker.authorize;

import java.util.List;

/** A user's consent for an external client to reach one resource with the granted scopes. */
public record Consent(String tenantId, String userId, String clientId, String resourceId, List<String> scopes,
                      long grantedAt) {
    public Consent {
        scopes = scopes == null ? List.of() : List.copyOf(scopes);
    }
}
