package dev.deputy.connectors;

import dev.deputy.connectors.vendor.Auth0Connector;
import dev.deputy.connectors.vendor.EntraConnector;
import dev.deputy.connectors.vendor.KeycloakConnector;
import dev.deputy.connectors.vendor.OktaConnector;

import java.util.Map;

/** Builds the connector for a config's type. */
public final class Connectors {

    private Connectors() {}

    public static UpstreamConnector create(ConnectorConfig config, ConnectorOptions options) {
        return switch (config.type()) {
            case OIDC -> new OidcConnector(config, options);
            case OKTA -> new OktaConnector(config, options);
            case AUTH0 -> new Auth0Connector(config, options);
            case ENTRA -> new EntraConnector(config, options);
            case KEYCLOAK -> new KeycloakConnector(config, options);
        };
    }

    public static UpstreamConnector create(ConnectorConfig config) {
        return create(config, ConnectorOptions.defaults());
    }

    /** Parses the broker's YAML map ({@link ConnectorConfig#fromMap}) and builds the connector. */
    public static UpstreamConnector fromMap(Map<String, ?> map) {
        return create(ConnectorConfig.fromMap(map));
    }
}
