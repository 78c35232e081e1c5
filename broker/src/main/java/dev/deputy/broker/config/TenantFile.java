package dev.deputy.broker.config;

import java.time.Duration;

/**
 * {@code config/tenants/<id>/tenant.yml}. Unset values take the broker defaults.
 *
 * @param dormancy when an unused agent counts as dormant, and whether it is then suspended
 */
public record TenantFile(String displayName, String signingAlg, Duration accessTokenTtl,
                         Duration keyRotationPeriod, Duration keyPrepublish, DormancyFile dormancy) {
    public TenantFile {
        if (displayName == null || displayName.isBlank()) {
            throw new IllegalArgumentException("display_name is required");
        }
        if (signingAlg != null) {
            SigningAlgs.check(signingAlg);
        }
    }

    public TenantFile(String displayName, String signingAlg, Duration accessTokenTtl, Duration keyRotationPeriod,
                      Duration keyPrepublish) {
        this(displayName, signingAlg, accessTokenTtl, keyRotationPeriod, keyPrepublish, null);
    }

    /**
     * {@code dormancy:} in tenant.yml.
     *
     * @param period      an active agent unused this long is dormant (default 90d)
     * @param autoSuspend suspend dormant agents automatically (default false: only list them)
     */
    public record DormancyFile(Duration period, Boolean autoSuspend) {
        public DormancyFile {
            if (period != null && (period.isZero() || period.isNegative())) {
                throw new IllegalArgumentException("dormancy.period must be positive");
            }
        }
    }
}
