package dev.deputy.broker.config;

import java.time.Duration;

/**
 * {@code config/tenants/<id>/tenant.yml}. Unset values take the broker defaults.
 *
 * @param dormancy                when an unused agent counts as dormant, and whether it is then suspended
 * @param introspection           who may call the introspection endpoint (RFC 7662 §2.1, §4)
 * @param clientAssertionAudience what a client assertion's {@code aud} may be (private_key_jwt): {@code issuer} (the
 *                                default: the tenant's issuer identifier, one value, draft-ietf-oauth-rfc7523bis) or
 *                                {@code issuer_or_endpoints} (also the token, introspection and revocation endpoint
 *                                URLs, as RFC 7523 §3 allowed; for clients that cannot be changed yet)
 * @param rateLimits              the tenant's rate limits ({@link RateLimitsFile}); unset: the defaults
 * @param anomaly                 anomaly rules on the audit stream and their alert webhook ({@link AnomalyFile}); unset: none
 */
public record TenantFile(String displayName, String signingAlg, Duration accessTokenTtl,
                         Duration keyRotationPeriod, Duration keyPrepublish, DormancyFile dormancy,
                         IntrospectionFile introspection, String clientAssertionAudience, RateLimitsFile rateLimits,
                         AnomalyFile anomaly) {
    public static final String AUD_ISSUER = "issuer";
    public static final String AUD_ISSUER_OR_ENDPOINTS = "issuer_or_endpoints";

    public TenantFile {
        if (clientAssertionAudience != null && !AUD_ISSUER.equals(clientAssertionAudience)
                && !AUD_ISSUER_OR_ENDPOINTS.equals(clientAssertionAudience)) {
            throw new IllegalArgumentException("client_assertion_audience must be issuer or issuer_or_endpoints");
        }
        if (displayName == null || displayName.isBlank()) {
            throw new IllegalArgumentException("display_name is required");
        }
        if (signingAlg != null) {
            SigningAlgs.check(signingAlg);
        }
        rateLimits = rateLimits == null ? RateLimitsFile.DEFAULT : rateLimits;
        anomaly = anomaly == null ? new AnomalyFile(null, null) : anomaly;
    }

    public TenantFile(String displayName, String signingAlg, Duration accessTokenTtl, Duration keyRotationPeriod,
                      Duration keyPrepublish, DormancyFile dormancy, IntrospectionFile introspection,
                      String clientAssertionAudience, RateLimitsFile rateLimits) {
        this(displayName, signingAlg, accessTokenTtl, keyRotationPeriod, keyPrepublish, dormancy, introspection,
                clientAssertionAudience, rateLimits, null);
    }

    public TenantFile(String displayName, String signingAlg, Duration accessTokenTtl, Duration keyRotationPeriod,
                      Duration keyPrepublish, DormancyFile dormancy, IntrospectionFile introspection,
                      String clientAssertionAudience) {
        this(displayName, signingAlg, accessTokenTtl, keyRotationPeriod, keyPrepublish, dormancy, introspection,
                clientAssertionAudience, null);
    }

    public TenantFile(String displayName, String signingAlg, Duration accessTokenTtl, Duration keyRotationPeriod,
                      Duration keyPrepublish) {
        this(displayName, signingAlg, accessTokenTtl, keyRotationPeriod, keyPrepublish, null, null, null);
    }

    public TenantFile(String displayName, String signingAlg, Duration accessTokenTtl, Duration keyRotationPeriod,
                      Duration keyPrepublish, DormancyFile dormancy) {
        this(displayName, signingAlg, accessTokenTtl, keyRotationPeriod, keyPrepublish, dormancy, null, null);
    }

    public TenantFile(String displayName, String signingAlg, Duration accessTokenTtl, Duration keyRotationPeriod,
                      Duration keyPrepublish, DormancyFile dormancy, IntrospectionFile introspection) {
        this(displayName, signingAlg, accessTokenTtl, keyRotationPeriod, keyPrepublish, dormancy, introspection, null);
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
