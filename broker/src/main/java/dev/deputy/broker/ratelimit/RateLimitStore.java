package dev.deputy.broker.ratelimit;

import dev.deputy.broker.config.Limit;
import dev.deputy.broker.ephemeral.EphemeralStore;

import java.time.Duration;

/**
 * Token buckets shared by every broker node (the port of {@link RateLimiter}): Bucket4j's Lettuce proxy manager on
 * Redis in production (one bucket per key, compare-and-swap, so two nodes take from the same bucket), Bucket4j's
 * local lock-free buckets in-process on the embedded default. An unreachable backend raises
 * {@link dev.deputy.broker.health.ServiceUnavailableException}.
 */
public interface RateLimitStore extends AutoCloseable {

    /** What one attempt got: allowed, or refused with the time until a token is back. */
    record Probe(boolean allowed, long nanosToWait) {
        public static final Probe ALLOWED = new Probe(true, 0);

        /** RFC 9110 §10.2.3 {@code Retry-After} in whole seconds, at least 1. */
        public long retryAfterSeconds() {
            return Math.max(1, (nanosToWait + 999_999_999L) / 1_000_000_000L);
        }
    }

    /** Takes one token from the bucket {@code key} of the given (switched on) limit. */
    Probe take(String key, Limit limit);

    /** What {@link #markAndTake} got: a replayed mark (and no take), or a fresh mark and the take's probe. */
    record MarkProbe(boolean fresh, Probe probe) {
        public static final MarkProbe REPLAYED = new MarkProbe(false, null);
    }

    /**
     * Marks {@code markKey} used in {@code marks} (exactly {@link EphemeralStore#markUsed}) and, only when the mark is
     * fresh, takes one token from the bucket {@code bucketKey}. The Redis store does both in one round trip (one
     * script); this default, two calls, is the same answer.
     */
    default MarkProbe markAndTake(EphemeralStore marks, String markKey, Duration ttl, String bucketKey, Limit limit) {
        if (!marks.markUsed(markKey, ttl)) {
            return MarkProbe.REPLAYED;
        }
        return new MarkProbe(true, take(bucketKey, limit));
    }

    /** "in-process" or "redis", for the start-up log. */
    String backend();

    @Override
    default void close() {
    }
}
