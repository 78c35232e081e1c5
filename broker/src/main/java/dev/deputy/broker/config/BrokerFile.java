package dev.deputy.broker.config;

import java.time.Duration;
import java.util.List;

/**
 * {@code config/broker.yml}: broker-wide defaults that a tenant file may override.
 *
 * @param defaultTenant tenant served when a tool asks for "the" tenant (CLI, demo)
 * @param defaults      token and key defaults for every tenant
 * @param trustDomain   SPIFFE trust domain of agent certificates ({@code spiffe://<trust domain>/t/<tenant>/agent/<id>});
 *                      null = the host of the public URL
 * @param mtls          mutual-TLS client authentication (RFC 8705)
 * @param privateKeyJwt private_key_jwt client authentication (RFC 7523 §3)
 * @param agentCa       the per-tenant agent CA
 * @param rateLimits    the broker-wide rate limits (the tenants' own are in their tenant.yml)
 */
public record BrokerFile(String defaultTenant, TenantDefaults defaults, String trustDomain, Mtls mtls,
                         PrivateKeyJwt privateKeyJwt, AgentCa agentCa, RateLimits rateLimits) {

    public BrokerFile {
        defaultTenant = defaultTenant == null ? "demo" : defaultTenant;
        defaults = defaults == null ? TenantDefaults.STRICT : defaults;
        if (trustDomain != null && !trustDomain.matches("[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?")) {
            throw new IllegalArgumentException("trust_domain must be a lower-case DNS-like name (SPIFFE trust domain)");
        }
        mtls = mtls == null ? Mtls.STRICT : mtls;
        privateKeyJwt = privateKeyJwt == null ? PrivateKeyJwt.STRICT : privateKeyJwt;
        agentCa = agentCa == null ? AgentCa.STRICT : agentCa;
        rateLimits = rateLimits == null ? RateLimits.DEFAULT : rateLimits;
    }

    public BrokerFile(String defaultTenant, TenantDefaults defaults, String trustDomain, Mtls mtls,
                      PrivateKeyJwt privateKeyJwt, AgentCa agentCa) {
        this(defaultTenant, defaults, trustDomain, mtls, privateKeyJwt, agentCa, null);
    }

    public static final BrokerFile DEFAULT = new BrokerFile(null, null, null, null, null, null, null);

    /**
     * {@code rate_limits:} in broker.yml.
     *
     * @param adminTokenPerSource requests to {@code POST /admin/token} per source address (every attempt counts);
     *                            {@code <requests>/<period>} or {@code off}; default 120/1m (each CLI command takes one token)
     */
    public record RateLimits(Limit adminTokenPerSource) {
        public static final Limit DEFAULT_ADMIN_TOKEN_PER_SOURCE = new Limit(120, Duration.ofMinutes(1));
        public static final RateLimits DEFAULT = new RateLimits(null);

        public RateLimits {
            adminTokenPerSource = adminTokenPerSource == null ? DEFAULT_ADMIN_TOKEN_PER_SOURCE : adminTokenPerSource;
        }
    }

    /**
     * @param publicUrl      base URL advertised in {@code mtls_endpoint_aliases} (RFC 8705 §5); null = https on the
     *                       public URL's host and the HTTPS listener's port
     * @param proxyHeader    header carrying the client certificate from a TLS-terminating proxy (URL-encoded PEM, as
     *                       nginx {@code $ssl_client_escaped_cert}, or base64 DER); null = off (the default)
     * @param trustedProxies source addresses allowed to set {@code proxy_header}; required when it is set
     */
    public record Mtls(String publicUrl, String proxyHeader, List<String> trustedProxies) {
        public static final Mtls STRICT = new Mtls(null, null, null);

        public Mtls {
            trustedProxies = trustedProxies == null ? List.of() : List.copyOf(trustedProxies);
            if (proxyHeader != null && trustedProxies.isEmpty()) {
                throw new IllegalArgumentException("mtls.proxy_header needs mtls.trusted_proxies (the proxies' addresses)");
            }
            if (publicUrl != null && !publicUrl.startsWith("https://")) {
                throw new IllegalArgumentException("mtls.public_url must be an https URL");
            }
        }
    }

    /**
     * @param maxLifetime         how far ahead an assertion's {@code exp} may be (default 5m)
     * @param jwksUriAllowPrivate allow {@code jwks_uri} on loopback/private/link-local addresses (default false; tests only)
     * @param jwksUriTimeout      connect and read timeout for {@code jwks_uri} fetches (default 2s)
     * @param jwksUriMaxBytes     size cap of a fetched JWK Set (default 64 KiB)
     * @param jwksUriCacheTtl     how long a fetched JWK Set is used before it is fetched again (default 5m)
     */
    public record PrivateKeyJwt(Duration maxLifetime, Boolean jwksUriAllowPrivate, Duration jwksUriTimeout,
                                Integer jwksUriMaxBytes, Duration jwksUriCacheTtl) {
        public static final PrivateKeyJwt STRICT = new PrivateKeyJwt(null, null, null, null, null);

        public PrivateKeyJwt {
            maxLifetime = maxLifetime == null ? Duration.ofMinutes(5) : maxLifetime;
            jwksUriAllowPrivate = jwksUriAllowPrivate != null && jwksUriAllowPrivate;
            jwksUriTimeout = jwksUriTimeout == null ? Duration.ofSeconds(2) : jwksUriTimeout;
            jwksUriMaxBytes = jwksUriMaxBytes == null ? 65_536 : jwksUriMaxBytes;
            jwksUriCacheTtl = jwksUriCacheTtl == null ? Duration.ofMinutes(5) : jwksUriCacheTtl;
            if (maxLifetime.isZero() || maxLifetime.isNegative() || maxLifetime.compareTo(Duration.ofHours(1)) > 0) {
                throw new IllegalArgumentException("private_key_jwt.max_lifetime must be between 1s and 1h");
            }
            if (jwksUriMaxBytes < 1024 || jwksUriMaxBytes > 1_048_576) {
                throw new IllegalArgumentException("private_key_jwt.jwks_uri_max_bytes must be between 1024 and 1048576");
            }
        }
    }

    /**
     * @param certificateTtl    default lifetime of issued agent certificates (default 24h)
     * @param maxCertificateTtl the longest lifetime an admin may ask for (default 30d)
     */
    public record AgentCa(Duration certificateTtl, Duration maxCertificateTtl) {
        public static final AgentCa STRICT = new AgentCa(null, null);

        public AgentCa {
            certificateTtl = certificateTtl == null ? Duration.ofHours(24) : certificateTtl;
            maxCertificateTtl = maxCertificateTtl == null ? Duration.ofDays(30) : maxCertificateTtl;
            if (certificateTtl.compareTo(maxCertificateTtl) > 0 || certificateTtl.isNegative() || certificateTtl.isZero()) {
                throw new IllegalArgumentException("agent_ca.certificate_ttl must be positive and at most max_certificate_ttl");
            }
        }
    }

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
