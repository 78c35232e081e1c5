package dev.deputy.connectors;

import dev.deputy.connectors.ConnectorException.Code;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** A tenant's connectors by id, with home-realm discovery by email domain. Immutable. */
public record ConnectorRegistry(Map<String, UpstreamConnector> byId) {

    public ConnectorRegistry {
        byId = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(byId));
    }

    public static ConnectorRegistry of(List<UpstreamConnector> connectors) {
        Map<String, UpstreamConnector> m = new LinkedHashMap<>();
        for (UpstreamConnector c : connectors) {
            if (m.putIfAbsent(c.id(), c) != null) {
                throw new ConnectorException(Code.INVALID_CONFIG, "duplicate connector id '" + c.id() + "'");
            }
        }
        for (UpstreamConnector a : m.values()) {
            for (String d : a.config().emailDomains()) {
                for (UpstreamConnector b : m.values()) {
                    if (a != b && b.config().emailDomains().contains(d)) {
                        throw new ConnectorException(Code.INVALID_CONFIG, "email domain '" + d + "' is claimed by connectors '"
                                + a.id() + "' and '" + b.id() + "'");
                    }
                }
            }
        }
        return new ConnectorRegistry(m);
    }

    public Optional<UpstreamConnector> get(String id) {
        return Optional.ofNullable(byId.get(id));
    }

    /** Home-realm discovery: the connector whose {@code email_domains} contains the email's domain. */
    public Optional<UpstreamConnector> forEmail(String email) {
        return byId.values().stream().filter(c -> c.config().handlesEmail(email)).findFirst();
    }
}
