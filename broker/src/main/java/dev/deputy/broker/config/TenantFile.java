package dev.deputy.broker.config;

import java.time.Duration;

/**
 * {@code config/tenants/<id>/tenant.yml}. Unset values take the broker defaults.
 *
 * @param dormancy      when an unused agent counts as dormant, and whether it is then suspended
 * @param introspection who may call the introspection endpoint (RFC 7662 §2.1, §4)
 */
public record TenantFile(String displayName, String signingAlg, Duration accessTokenTtl,
                         Duration keyRotationPeriod, Duration keyPrepublish, DormancyFile dormancy,
                         IntrospectionFile introspection) {
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
        this(displayName, signingAlg, accessTokenTtl, keyRotationPeriod, keyPrepublish, null, null);
    }

    public TenantFile(String displayName, String signingAlg, Duration accessTokenTtl, Duration keyRotationPeriod,
                      Duration keyPrepublish, DormancyFile dormancy) {
        this(displayName, signingAlg, accessTokenTtl, keyRotationPeriod, keyPrepublish, dormancy, null);
    }

    /**
     * {@code introspection:} in tenant.yml. RFC 7662 §4: the authorization server decides which protected resources
     * may introspect; public clients never may (§2.1, they cannot authenticate).
     *
     * @param allowedClients the client ids (agents or registered confidential clients, typically the resource
     *                       servers) allowed to introspect; unset: every confidential client of the tenant
     */
    public record IntrospectionFile(java.util.List<String> allowedClients) {
        public IntrospectionFile {
            if (allowedClients != null) {
                for (String c : allowedClients) {
                    if (c == null || c.isBlank()) {
                        throw new IllegalArgumentException("introspection.allowed_clients: empty client id");
                    }
                }
                allowedClients = java.util.List.copyOf(allowedClients);
            }
        }
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
