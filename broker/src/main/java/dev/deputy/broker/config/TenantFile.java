package dev.deputy.broker.config;

import java.time.Duration;

/**
 * {@code config/tenants/<id>/tenant.yml}. Unset values take the broker defaults.
 */
public record TenantFile(String displayName, String signingAlg, Duration accessTokenTtl,
                         Duration keyRotationPeriod, Duration keyPrepublish) {
    public TenantFile {
        if (displayName == null || displayName.isBlank()) {
            throw new IllegalArgumentException("display_name is required");
        }
        if (signingAlg != null) {
            SigningAlgs.check(signingAlg);
        }
    }
}
