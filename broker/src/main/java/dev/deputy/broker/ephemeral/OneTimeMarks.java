package dev.deputy.broker.ephemeral;

import java.time.Duration;

/**
 * How client authentication marks a one-time value of an authenticated client used (a private_key_jwt assertion's
 * {@code jti}, RFC 7523 §3 (7)): true for the one request that marked it first, false for every replay while the mark
 * lives. Plainly {@link EphemeralStore#markUsed}; at the token endpoint with {@code token_per_client} on, the front
 * door hands in the rate limiter's ({@code ratelimit.RateLimiter#tokenMarks}), which also takes the request from the
 * client's token bucket in the same store round trip — after the mark, and only for a fresh one, so a replayed
 * assertion never empties its client's bucket.
 */
@FunctionalInterface
public interface OneTimeMarks {
    /**
     * @param clientId the client the value belongs to, already authenticated by everything but the mark
     * @param key      the store key of the mark ({@code <purpose>:<tenant>:<client>:<digest>})
     */
    boolean markUsed(String clientId, String key, Duration ttl);

    /** The store's own mark, nothing else. */
    static OneTimeMarks of(EphemeralStore store) {
        return (clientId, key, ttl) -> store.markUsed(key, ttl);
    }
}
