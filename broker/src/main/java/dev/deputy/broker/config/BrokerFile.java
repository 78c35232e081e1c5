package dev.deputy.broker.config;

import java.time.Duration;

/**
 * {@code config/broker.yml}: broker-wide defaults that a tenant file may override.
 *
 * @param defaultTenant tenant served when a tool asks for "the" tenant (CLI, demo)
 * @param defaults      token and key defaults for every tenant
 */
public record BrokerFile(String defaultTenant, TenantDefaults defaults) {

    public BrokerFile {
        defaultTenant = defaultTenant == null ? "demo" : defaultTenant;
        defaults = defaults == null ? TenantDefaults.STRICT : defaults;
    }

    public static final BrokerFile DEFAULT = new BrokerFile(null, null);

    /**
     * @param signingAlg        ES256 (default), RS256 or EdDSA
     * @param accessTokenTtl    lifetime of access tokens (short: default 5 minutes)
     * @param keyRotationPeriod how long a signing key signs before the next one takes over
     * @param keyPrepublish     how long the next key is published in the JWKS before it signs
     */
    public record TenantDefaults(String signingAlg, Duration accessTokenTtl, Duration keyRotationPeriod,
                                 Duration keyPrepublish) {
        public static final TenantDefaults STRICT = new TenantDefaults(null, null, null, null);

        public TenantDefaults {
            signingAlg = SigningAlgs.check(signingAlg == null ? "ES256" : signingAlg);
            accessTokenTtl = accessTokenTtl == null ? Duration.ofMinutes(5) : accessTokenTtl;
            keyRotationPeriod = keyRotationPeriod == null ? Duration.ofDays(30) : keyRotationPeriod;
            keyPrepublish = keyPrepublish == null ? Duration.ofDays(1) : keyPrepublish;
            if (accessTokenTtl.isZero() || accessTokenTtl.compareTo(Duration.ofHours(24)) > 0) {
                throw new IllegalArgumentException("access_token_ttl must be between 1s and 24h");
            }
            if (keyPrepublish.compareTo(keyRotationPeriod) >= 0) {
                throw new IllegalArgumentException("key_prepublish must be shorter than key_rotation_period");
            }
        }
    }
}
