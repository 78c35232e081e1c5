package dev.deputy.connectors.vendor;

import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.proc.BadJWTException;
import com.nimbusds.openid.connect.sdk.op.OIDCProviderMetadata;
import dev.deputy.connectors.ConnectorConfig;
import dev.deputy.connectors.ConnectorConfig.EntraOptions;
import dev.deputy.connectors.ConnectorException;
import dev.deputy.connectors.ConnectorException.Code;
import dev.deputy.connectors.ConnectorOptions;
import dev.deputy.connectors.ConnectorTestReport.Check;
import dev.deputy.connectors.ConnectorTestReport.Status;
import dev.deputy.connectors.OidcConnector;
import dev.deputy.connectors.UpstreamIdentity;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Microsoft Entra ID (v2.0 endpoints). Single tenant: issuer {@code https://login.microsoftonline.com/{tid}/v2.0}.
 * Multi-tenant ({@code common}/{@code organizations}/{@code consumers}): the discovery document's issuer is the
 * template {@code .../{tenantid}/v2.0}; each token's {@code iss} must equal the template with the token's own
 * {@code tid}, and that {@code tid} must be on the allow-list. {@code sub} stays the identity (pairwise per app);
 * {@code oid} is exposed beside it. A groups overage ({@code _claim_names.groups}) is reported, not fatal.
 */
public final class EntraConnector extends OidcConnector {

    static final String TEMPLATE = "{tenantid}";
    private static final Pattern GUID = Pattern.compile("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");

    private final EntraOptions entra;
    private final String issuerTemplate;

    public EntraConnector(ConnectorConfig config, ConnectorOptions options) {
        super(config, options);
        this.entra = (EntraOptions) config.vendor();
        String suffix = "/" + entra.tenant() + "/v2.0";
        this.issuerTemplate = config.issuer().substring(0, config.issuer().length() - suffix.length()) + "/" + TEMPLATE + "/v2.0";
    }

    @Override
    protected void checkDiscoveredIssuer(String discovered) {
        if (!entra.multiTenant()) {
            super.checkDiscoveredIssuer(discovered);
        } else if (!issuerTemplate.equals(discovered)) {
            // Entra multi-tenant metadata publishes the issuer with a literal {tenantid} placeholder
            throw new ConnectorException(Code.ISSUER_MISMATCH, "discovery document issuer '" + discovered
                    + "' is not the multi-tenant template '" + issuerTemplate + "'");
        }
    }

    @Override
    protected String expectedIssuer(JWTClaimsSet claims) {
        if (!entra.multiTenant()) return config.issuer();
        Object tid = claims.getClaim("tid");
        // only a well-formed tenant id may be substituted into the template
        return tid instanceof String t && GUID.matcher(t).matches() ? issuerTemplate.replace(TEMPLATE, t) : null;
    }

    @Override
    protected boolean acceptsResponseIssuer(String iss) {
        if (!entra.multiTenant()) return super.acceptsResponseIssuer(iss);
        return entra.allowedTenants().stream().anyMatch(t -> issuerTemplate.replace(TEMPLATE, t).equals(iss));
    }

    @Override
    protected void checkVendorClaims(JWTClaimsSet claims, TokenKind kind) throws BadJWTException {
        String tid = stringClaim(claims, "tid", Code.INVALID_ID_TOKEN);
        if (tid == null) throw reject(Code.INVALID_ID_TOKEN, "Entra token has no tid");
        if (!entra.allowedTenants().contains(tid.toLowerCase(Locale.ROOT))) {
            throw reject(Code.TENANT_NOT_ALLOWED, "tenant " + tid + " is not allowed for this connector");
        }
    }

    /** Entra replaces {@code groups} by {@code _claim_names}/{@code _claim_sources} (or {@code hasgroups}) when a user has too many. */
    @Override
    protected boolean groupsOverage(Map<String, Object> claims) {
        return claims.get("_claim_names") instanceof Map<?, ?> names && names.containsKey("groups")
                || Boolean.TRUE.equals(claims.get("hasgroups"));
    }

    @Override
    protected UpstreamIdentity identity(JWTClaimsSet token, Map<String, Object> merged) {
        UpstreamIdentity base = super.identity(token, merged);
        return new UpstreamIdentity(base.connectorId(), base.issuer(), base.subject(), base.email(), base.emailVerified(),
                base.name(), base.groups(), base.roles(), base.groupsOverage(), string(merged.get("tid")),
                string(merged.get("oid")), base.claims());
    }

    @Override
    protected void vendorChecks(OIDCProviderMetadata metadata, List<Check> checks) {
        checks.add(new Check("entra.tenants", Status.OK, (entra.multiTenant() ? "multi-tenant (" + entra.tenant() + "), " : "single tenant, ")
                + "allowed tid: " + entra.allowedTenants()));
        if (!config.issuer().endsWith("/v2.0")) {
            checks.add(new Check("entra.version", Status.FAIL, "only v2.0 endpoints are supported"));
        }
    }
}
