package dev.deputy.connectors.vendor;

import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.oauth2.sdk.token.AccessToken;
import dev.deputy.connectors.ConnectorConfig;
import dev.deputy.connectors.ConnectorConfig.KeycloakOptions;
import dev.deputy.connectors.ConnectorException;
import dev.deputy.connectors.ConnectorOptions;
import dev.deputy.connectors.OidcConnector;
import dev.deputy.connectors.UpstreamConnector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Keycloak. Realm issuer {@code https://host/realms/{realm}}. Roles live in {@code realm_access.roles} and
 * {@code resource_access.{client}.roles}; Keycloak's default "roles" scope puts them in the access token only,
 * so when the ID token lacks them they are read from the access token, validated as a realm JWT whose
 * {@code azp} is our client and whose {@code sub} is the ID token's. Realm roles become groups as-is, client
 * roles as {@code client:role}, so that {@code role_mapping} applies to both.
 */
public final class KeycloakConnector extends OidcConnector {

    private static final Logger log = LoggerFactory.getLogger(KeycloakConnector.class);

    private final KeycloakOptions keycloak;

    public KeycloakConnector(ConnectorConfig config, ConnectorOptions options) {
        super(config, options);
        this.keycloak = (KeycloakOptions) config.vendor();
    }

    @Override
    protected Map<String, Object> claimsFromAccessToken(AccessToken accessToken, JWTClaimsSet idClaims) {
        if (idClaims.getClaim("realm_access") != null || idClaims.getClaim("resource_access") != null || accessToken == null) {
            return Map.of();
        }
        try {
            // the access token's aud is usually "account" or absent; Keycloak names the client in azp
            JWTClaimsSet at = validateOwnAccessToken(accessToken.getValue());
            if (!idClaims.getSubject().equals(at.getSubject())) return Map.of();
            Map<String, Object> out = new LinkedHashMap<>();
            if (at.getClaim("realm_access") != null) out.put("realm_access", at.toJSONObject().get("realm_access"));
            if (at.getClaim("resource_access") != null) out.put("resource_access", at.toJSONObject().get("resource_access"));
            return out;
        } catch (ConnectorException e) {
            log.debug("connector {}: access token not usable for roles ({})", config.id(), e.code().wire());
            return Map.of();
        }
    }

    private JWTClaimsSet validateOwnAccessToken(String jwt) {
        Set<String> audiences = new LinkedHashSet<>(List.of(config.clientId(), "account"));
        JWTClaimsSet at = validate(metadata(), jwt, new Expectation(UpstreamConnector.TokenKind.ACCESS_TOKEN, null, audiences));
        Object azp = at.getClaim("azp");
        if (!config.clientId().equals(azp)) throw new ConnectorException(ConnectorException.Code.AUDIENCE_MISMATCH, "access token azp is another client");
        return at;
    }

    @Override
    protected List<String> groups(Map<String, Object> claims) {
        Set<String> groups = new LinkedHashSet<>(super.groups(claims));
        if (claims.get("realm_access") instanceof Map<?, ?> realm) groups.addAll(strings(realm.get("roles")));
        if (claims.get("resource_access") instanceof Map<?, ?> resources) {
            for (String client : keycloak.clientRoles()) {
                if (resources.get(client) instanceof Map<?, ?> r) {
                    for (String role : strings(r.get("roles"))) groups.add(client + ":" + role);
                }
            }
        }
        return new ArrayList<>(groups);
    }
}
