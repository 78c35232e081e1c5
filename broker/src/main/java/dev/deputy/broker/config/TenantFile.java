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
 * @param branding                how the tenant's pages (login, consent, account) look; unset: Deputy's own
 * @param anomaly                 anomaly rules on the audit stream and their alert webhook ({@link AnomalyFile}); unset: none
 * @param approvals               human approval through OpenID CIBA ({@link ApprovalsFile}); unset: no CIBA client
 * @param toolReports             how tool-call reports are checked ({@link ToolReportsFile}); unset: strictly
 */
public record TenantFile(String displayName, String signingAlg, Duration accessTokenTtl,
                         Duration keyRotationPeriod, Duration keyPrepublish, DormancyFile dormancy,
                         IntrospectionFile introspection, String clientAssertionAudience, RateLimitsFile rateLimits,
                         BrandingFile branding, AnomalyFile anomaly, ApprovalsFile approvals,
                         ToolReportsFile toolReports) {
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
        approvals = approvals == null ? ApprovalsFile.NONE : approvals;
    }

    public TenantFile(String displayName, String signingAlg, Duration accessTokenTtl, Duration keyRotationPeriod,
                      Duration keyPrepublish, DormancyFile dormancy, IntrospectionFile introspection,
                      String clientAssertionAudience, RateLimitsFile rateLimits, BrandingFile branding, AnomalyFile anomaly) {
        this(displayName, signingAlg, accessTokenTtl, keyRotationPeriod, keyPrepublish, dormancy, introspection,
                clientAssertionAudience, rateLimits, branding, anomaly, null, null);
    }

    public TenantFile(String displayName, String signingAlg, Duration accessTokenTtl, Duration keyRotationPeriod,
                      Duration keyPrepublish, DormancyFile dormancy, IntrospectionFile introspection,
                      String clientAssertionAudience, RateLimitsFile rateLimits, BrandingFile branding,
                      AnomalyFile anomaly, ApprovalsFile approvals) {
        this(displayName, signingAlg, accessTokenTtl, keyRotationPeriod, keyPrepublish, dormancy, introspection,
                clientAssertionAudience, rateLimits, branding, anomaly, approvals, null);
    }

    public TenantFile(String displayName, String signingAlg, Duration accessTokenTtl, Duration keyRotationPeriod,
                      Duration keyPrepublish, DormancyFile dormancy, IntrospectionFile introspection,
                      String clientAssertionAudience, RateLimitsFile rateLimits) {
        this(displayName, signingAlg, accessTokenTtl, keyRotationPeriod, keyPrepublish, dormancy, introspection,
                clientAssertionAudience, rateLimits, null, null, null, null);
    }

    public TenantFile(String displayName, String signingAlg, Duration accessTokenTtl, Duration keyRotationPeriod,
                      Duration keyPrepublish, DormancyFile dormancy, IntrospectionFile introspection,
                      String clientAssertionAudience, RateLimitsFile rateLimits, BrandingFile branding) {
        this(displayName, signingAlg, accessTokenTtl, keyRotationPeriod, keyPrepublish, dormancy, introspection,
                clientAssertionAudience, rateLimits, branding, null, null, null);
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
     * {@code tool_reports:} in tenant.yml (docs/mcp.md, Tool-call reports). RFC 8705 §3: a certificate-bound token is
     * used only with its certificate; a report of a call made with such a token must show that the caller presented
     * it (the reporter forwards {@code client_certificate}, or the holder reports over mTLS itself). Without it the
     * report is refused — unless the tenant opts in here for MCP servers that do not terminate TLS themselves (then
     * the call is recorded with {@code cnf_verified: false}).
     *
     * @param acceptUnverifiedCnf record such reports, marked unverified (default false: refuse them)
     */
    public record ToolReportsFile(Boolean acceptUnverifiedCnf) {
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

    /**
     * {@code branding:} in tenant.yml: the tenant's name is {@code display_name}; these add a logo and colours. Colours
     * are {@code #rrggbb} (they go into a style sheet, so nothing else is accepted); the logo is an https URL or a
     * {@code data:image/...;base64,} URI (PNG, JPEG, GIF, WebP or SVG, at most 64 KiB).
     */
    public record BrandingFile(String logoUrl, String primaryColor, String backgroundColor, String textColor) {
        private static final java.util.regex.Pattern COLOUR = java.util.regex.Pattern.compile("#[0-9a-fA-F]{6}");
        private static final java.util.regex.Pattern DATA_IMAGE = java.util.regex.Pattern.compile(
                "data:image/(png|jpeg|gif|webp|svg\\+xml);base64,[A-Za-z0-9+/]+={0,2}");

        public BrandingFile {
            colour("primary_color", primaryColor);
            colour("background_color", backgroundColor);
            colour("text_color", textColor);
            if (logoUrl != null) {
                if (logoUrl.startsWith("data:")) {
                    if (logoUrl.length() > 90_000 || !DATA_IMAGE.matcher(logoUrl).matches()) {
                        throw new IllegalArgumentException("branding.logo_url: a data: URI must be data:image/<png|jpeg|gif|webp|svg+xml>;base64,... (at most 64 KiB)");
                    }
                } else {
                    java.net.URI u;
                    try {
                        u = new java.net.URI(logoUrl);
                    } catch (java.net.URISyntaxException e) {
                        throw new IllegalArgumentException("branding.logo_url: not a URI");
                    }
                    if (!"https".equals(u.getScheme()) || u.getHost() == null || u.getRawUserInfo() != null
                            || logoUrl.length() > 2000) {
                        throw new IllegalArgumentException("branding.logo_url: must be an https URL (or a data:image URI)");
                    }
                }
            }
        }

        private static void colour(String key, String value) {
            if (value != null && !COLOUR.matcher(value).matches()) {
                throw new IllegalArgumentException("branding." + key + ": must be a colour as #rrggbb");
            }
        }
    }
}
