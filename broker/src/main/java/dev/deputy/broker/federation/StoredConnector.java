package dev.deputy.broker.federation;

import java.util.Map;

/**
 * A connector added through the admin API. {@code config} is the connector map without secrets;
 * {@code sealedSecret} is the upstream client secret sealed with {@link dev.deputy.broker.keys.SecretBox}.
 */
public record StoredConnector(String tenantId, String id, Map<String, Object> config, String sealedSecret,
                              boolean enabled, boolean isDefault, long createdAt, long updatedAt) {
    public StoredConnector {
        config = config == null ? Map.of() : Map.copyOf(config);
    }
}
