package dev.deputy.broker.ratelimit;

/**
 * A request over one of the rate limits. Rendered in one place ({@code http.ErrorHandlers}) as {@code 429} with
 * {@code Retry-After} and the RFC 6749 §5.2 body {@code {"error":"temporarily_unavailable", ...}} (docs/security.md,
 * Rate limits, says why this code). Its audit entry, sampled, is already written when it is thrown.
 */
public final class RateLimitedException extends RuntimeException {
    private final String limit;
    private final long retryAfterSeconds;

    public RateLimitedException(String limit, long retryAfterSeconds) {
        super("rate limit " + limit, null, false, false);
        this.limit = limit;
        this.retryAfterSeconds = retryAfterSeconds;
    }

    /** The config key of the limit that refused ({@code token_per_client}, {@code rate_per_source}, ...). */
    public String limit() {
        return limit;
    }

    public long retryAfterSeconds() {
        return retryAfterSeconds;
    }
}
