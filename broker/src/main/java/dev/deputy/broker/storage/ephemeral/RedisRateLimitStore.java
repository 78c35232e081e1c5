package dev.deputy.broker.storage.ephemeral;

import dev.deputy.broker.config.Limit;
import dev.deputy.broker.health.ServiceUnavailableException;
import dev.deputy.broker.ratelimit.RateLimitStore;
import io.github.bucket4j.Bandwidth;
import io.github.bucket4j.BucketConfiguration;
import io.github.bucket4j.ConsumptionProbe;
import io.github.bucket4j.distributed.ExpirationAfterWriteStrategy;
import io.github.bucket4j.redis.lettuce.Bucket4jLettuce;
import io.github.bucket4j.redis.lettuce.cas.LettuceBasedProxyManager;
import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;

import java.time.Duration;

/**
 * Redis through Bucket4j's Lettuce proxy manager: the bucket state lives in Redis under the store's prefix, every
 * node takes from it with compare-and-swap (a {@code GET} and one Lua {@code EVAL} that writes only if the state is
 * unchanged, retried on conflict), and a key expires once its bucket would be full again.
 */
public final class RedisRateLimitStore implements RateLimitStore, AutoCloseable {
    private final StatefulConnection<String, byte[]> connection;
    private final LettuceBasedProxyManager<String> buckets;
    private final String prefix;

    /** @param connection a standalone or a Redis Cluster connection (Bucket4j speaks both) */
    public RedisRateLimitStore(StatefulConnection<String, byte[]> connection, String prefix) {
        this.connection = connection;
        this.prefix = prefix;
        var builder = connection instanceof StatefulRedisClusterConnection<String, byte[]> cluster
                ? Bucket4jLettuce.casBasedBuilder(cluster)
                : Bucket4jLettuce.casBasedBuilder((StatefulRedisConnection<String, byte[]>) connection);
        this.buckets = builder
                .expirationAfterWrite(ExpirationAfterWriteStrategy.basedOnTimeForRefillingBucketUpToMax(Duration.ofSeconds(5)))
                .requestTimeout(Duration.ofSeconds(2))
                .build();
    }

    @Override
    public Probe take(String key, Limit limit) {
        try {
            ConsumptionProbe p = buckets.builder().build(prefix + key, () -> BucketConfiguration.builder()
                            .addLimit(Bandwidth.builder().capacity(limit.requests())
                                    .refillGreedy(limit.requests(), limit.period()).build())
                            .build())
                    .tryConsumeAndReturnRemaining(1);
            return p.isConsumed() ? Probe.ALLOWED : new Probe(false, p.getNanosToWaitForRefill());
        } catch (IllegalArgumentException e) {
            throw e;
        } catch (RuntimeException e) {
            // Redis away or too slow: refuse like every other shared-state use (503, Lettuce reconnects by itself)
            throw new ServiceUnavailableException("rate limiter", e);
        }
    }

    @Override
    public String backend() {
        return "redis (Bucket4j Lettuce compare-and-swap)";
    }

    @Override
    public void close() {
        connection.close();
    }
}
