package dev.deputy.broker.config;

/**
 * {@code rate_limits:} in {@code config/tenants/<t>/tenant.yml} (docs/security.md, Rate limits). Each value is
 * {@code <requests>/<period>} or {@code off}; unset keys take the defaults below, chosen so that normal traffic (the
 * tests, the bench's ~5,000 token requests per second from one agent) never meets them.
 *
 * @param tokenPerClient            token requests per authenticated client (agent or OAuth client); default off
 * @param tenant                    requests to the tenant's token, introspection, revocation, tool-call report,
 *                                  registration and authorization endpoints together; default off
 * @param authorizePerSource        authorization requests ({@code /authorize}) per source address; default 300/1m
 * @param failedClientAuthPerSource failed client authentications per source address at the token, introspection,
 *                                  revocation and tool-call endpoints; past it every request of that source to them
 *                                  is refused until the bucket refills; default 300/1m
 */
public record RateLimitsFile(Limit tokenPerClient, Limit tenant, Limit authorizePerSource,
                             Limit failedClientAuthPerSource) {
    public static final Limit DEFAULT_AUTHORIZE_PER_SOURCE = new Limit(300, java.time.Duration.ofMinutes(1));
    public static final Limit DEFAULT_FAILED_CLIENT_AUTH_PER_SOURCE = new Limit(300, java.time.Duration.ofMinutes(1));
    public static final RateLimitsFile DEFAULT = new RateLimitsFile(null, null, null, null);

    public RateLimitsFile {
        tokenPerClient = tokenPerClient == null ? Limit.OFF : tokenPerClient;
        tenant = tenant == null ? Limit.OFF : tenant;
        authorizePerSource = authorizePerSource == null ? DEFAULT_AUTHORIZE_PER_SOURCE : authorizePerSource;
        failedClientAuthPerSource = failedClientAuthPerSource == null ? DEFAULT_FAILED_CLIENT_AUTH_PER_SOURCE
                : failedClientAuthPerSource;
    }
}
