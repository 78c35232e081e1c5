package dev.deputy.connectors.vendor;

import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.proc.BadJWTException;
import com.nimbusds.openid.connect.sdk.AuthenticationRequest;
import dev.deputy.connectors.ConnectorConfig;
import dev.deputy.connectors.ConnectorConfig.Auth0Options;
import dev.deputy.connectors.ConnectorException;
import dev.deputy.connectors.ConnectorException.Code;
import dev.deputy.connectors.ConnectorOptions;
import dev.deputy.connectors.OidcConnector;

import java.util.Locale;
import java.util.Map;

/**
 * Auth0. The issuer keeps its trailing slash ({@code https://tenant.auth0.com/}) and is compared byte for
 * byte; custom claims are namespaced (e.g. {@code https://example.com/groups}); Organizations add an
 * {@code organization} request parameter and an {@code org_id} / {@code org_name} claim to check.
 */
public final class Auth0Connector extends OidcConnector {

    private final Auth0Options auth0;

    public Auth0Connector(ConnectorConfig config, ConnectorOptions options) {
        super(config, options);
        this.auth0 = (Auth0Options) config.vendor();
    }

    @Override
    protected void checkDiscoveredIssuer(String discovered) {
        if ((config.issuer() + "/").equals(discovered) || config.issuer().equals(discovered + "/")) {
            throw new ConnectorException(Code.ISSUER_MISMATCH, "discovery issuer '" + discovered
                    + "' differs from the configured issuer only by a trailing '/': configure it exactly as Auth0 publishes it");
        }
        super.checkDiscoveredIssuer(discovered);
    }

    @Override
    protected void customizeAuthorization(AuthenticationRequest.Builder request) {
        if (auth0.organization() != null) request.customParameter("organization", auth0.organization());
    }

    /** A mapped claim is read as named, then under the configured namespace ({@code groups} → {@code https://example.com/groups}). */
    @Override
    protected Object claim(Map<String, Object> claims, String name) {
        Object v = claims.get(name);
        if (v == null && auth0.namespace() != null) v = claims.get(auth0.namespace() + name);
        return v;
    }

    @Override
    protected void checkVendorClaims(JWTClaimsSet claims, TokenKind kind) throws BadJWTException {
        String org = auth0.organization();
        if (org == null) return;
        // Auth0 Organizations: the application MUST validate org_id (or org_name when configured by name)
        if (org.startsWith("org_")) {
            if (!org.equals(stringClaim(claims, "org_id", Code.INVALID_ID_TOKEN))) {
                throw reject(Code.ORGANIZATION_MISMATCH, "token org_id is not the configured organization");
            }
        } else {
            String name = stringClaim(claims, "org_name", Code.INVALID_ID_TOKEN);
            if (name == null || !name.equals(org.toLowerCase(Locale.ROOT))) {
                throw reject(Code.ORGANIZATION_MISMATCH, "token org_name is not the configured organization");
            }
        }
    }
}
