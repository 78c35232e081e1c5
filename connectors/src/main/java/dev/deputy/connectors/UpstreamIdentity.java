package dev.deputy.connectors;

import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A user as the upstream IdP asserted it. {@code issuer} and {@code subject} are exactly the {@code iss} and
 * {@code sub} strings of the validated token, byte for byte: link users by (connector, issuer, subject).
 *
 * @param email          mapped email claim, may be null
 * @param emailVerified  the upstream {@code email_verified}, null when the IdP does not say
 * @param groups         upstream groups (Keycloak: realm roles and {@code client:role} client roles)
 * @param roles          Deputy roles from the connector's role mapping
 * @param groupsOverage  Entra ID: the groups claim was replaced by a Graph reference (too many groups)
 * @param tenantId       Entra ID {@code tid}, else null
 * @param objectId       Entra ID {@code oid}, else null
 * @param claims         all claims (ID token merged with userinfo), unmodifiable
 */
public record UpstreamIdentity(String connectorId, String issuer, String subject, String email, Boolean emailVerified,
                               String name, List<String> groups, Set<String> roles, boolean groupsOverage,
                               String tenantId, String objectId, Map<String, Object> claims) {

    public UpstreamIdentity {
        groups = List.copyOf(groups);
        roles = Set.copyOf(roles);
        claims = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(claims));
    }
}
