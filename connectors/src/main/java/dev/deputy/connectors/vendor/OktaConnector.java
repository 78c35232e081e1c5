package dev.deputy.connectors.vendor;

import com.nimbusds.openid.connect.sdk.op.OIDCProviderMetadata;
import dev.deputy.connectors.ConnectorConfig;
import dev.deputy.connectors.ConnectorConfig.OktaOptions;
import dev.deputy.connectors.ConnectorException;
import dev.deputy.connectors.ConnectorException.Code;
import dev.deputy.connectors.ConnectorOptions;
import dev.deputy.connectors.ConnectorTestReport.Check;
import dev.deputy.connectors.ConnectorTestReport.Status;
import dev.deputy.connectors.OidcConnector;
import dev.deputy.connectors.UpstreamIdentity;

import java.util.List;
import java.util.Set;

/**
 * Okta. Two issuer shapes: the org authorization server ({@code https://{org}.okta.com}) and custom
 * authorization servers ({@code https://{org}.okta.com/oauth2/{id}}, incl. {@code default}).
 * Groups arrive in the {@code groups} claim when the app or authorization server is configured to emit them.
 */
public final class OktaConnector extends OidcConnector {

    private final boolean custom;

    public OktaConnector(ConnectorConfig config, ConnectorOptions options) {
        super(config, options);
        this.custom = ((OktaOptions) config.vendor()).customAuthorizationServer();
    }

    @Override
    public UpstreamIdentity validateUpstreamToken(String jwt, TokenKind kind, Set<String> acceptedAudiences) {
        // Okta: access tokens of the org authorization server are meant for Okta's own APIs and can only be
        // validated by Okta; local validation needs a custom authorization server.
        if (kind == TokenKind.ACCESS_TOKEN && !custom) {
            throw new ConnectorException(Code.UNSUPPORTED_TOKEN,
                    "Okta org authorization server access tokens cannot be validated locally; use a custom authorization server");
        }
        return super.validateUpstreamToken(jwt, kind, acceptedAudiences);
    }

    @Override
    protected void vendorChecks(OIDCProviderMetadata metadata, List<Check> checks) {
        checks.add(new Check("okta.authorization_server", Status.OK, custom ? "custom authorization server" : "org authorization server"));
        if (!config.scopes().contains("groups") && "groups".equals(config.claims().groups())) {
            checks.add(new Check("okta.groups", Status.WARN,
                    "the 'groups' scope is not requested: Okta sends the groups claim only if a groups claim is configured on the "
                            + (custom ? "authorization server" : "app") + " or the scope is requested"));
        }
    }
}
