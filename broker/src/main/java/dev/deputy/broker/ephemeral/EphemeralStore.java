package dev.deputy.broker.ephemeral;

import java.time.Duration;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * Short-lived state shared by every broker node: authorization codes, upstream login state, PAR requests,
 * the jti replay cache, rate limits and the revocation fan-out. Redis (Lettuce) in production, an
 * in-process map as the embedded default; both pass the same contract tests.
 *
 * <p>Keys are plain strings chosen by the caller (by convention {@code <purpose>:<tenant>:<id>}); the
 * implementation adds its own namespace. An unreachable backend raises
 * {@link dev.deputy.broker.health.ServiceUnavailableException}.
 */
public interface EphemeralStore extends dev.deputy.broker.health.DependencyCheck, AutoCloseable {

    /** Stores a value that disappears after {@code ttl}. */
    void put(String key, String value, Duration ttl);

    Optional<String> get(String key);

    /** Atomic get-and-delete: of any number of concurrent takes of one key, exactly one gets the value. */
    Optional<String> take(String key);

    /** Set-if-absent with a TTL: true for the one caller that stored it (replay caches). */
    boolean putIfAbsent(String key, String value, Duration ttl);

    /**
     * Marks a one-time value used (an assertion's {@code jti}) until {@code ttl}: true for the one caller that marked
     * it first, false for every later one while the mark lives. The same answer as {@code putIfAbsent(key, "1", ttl)},
     * which is the default; a mark is never read back, so a store may keep it compactly (the in-process store holds a
     * 128-bit fingerprint of the key, not the key). Callers never read a mark back ({@link #get} may or may not see it).
     */
    default boolean markUsed(String key, Duration ttl) {
        return putIfAbsent(key, "1", ttl);
    }

    /** Increments a counter, creating it with the TTL on first use (rate limits); returns the new value. */
    long increment(String key, Duration ttl);

    void delete(String key);

    /** Publishes to every node's subscribers of the channel (revocation fan-out). */
    void publish(String channel, String message);

    /** Subscribes to a channel; the listener runs off the caller's thread. */
    AutoCloseable subscribe(String channel, Consumer<String> listener);

    @Override
    default void close() {
    }
}
