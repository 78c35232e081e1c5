package dev.deputy.broker.storage.ephemeral;

import dev.deputy.broker.config.Limit;
import dev.deputy.broker.health.ServiceUnavailableException;
import dev.deputy.broker.ratelimit.RateLimitStore;
import io.lettuce.core.RedisException;
import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisScriptingCommands;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/**
 * Redis token buckets in <em>one</em> round trip per request: a Lua script ({@code EVALSHA}) reads the bucket, refills
 * it by the time elapsed on Redis's own clock ({@code TIME}, so nodes with skewed clocks agree), takes a token if
 * there is one, writes it back and sets its expiry, atomically (Redis runs a script alone), so two nodes can never
 * take the same token. The bucket is Bucket4j's "greedy" refill (tokens come back continuously, {@code capacity} per
 * period), as in the in-process store, and a key expires once its bucket would be full again.
 *
 * <p>Bucket4j's Lettuce proxy manager (used before) is compare-and-swap only in 8.14: a {@code GET} and a Lua
 * {@code EVAL}, two round trips, more under contention. The script is sent once per connection ({@code EVALSHA}, with
 * {@code EVAL} after a {@code NOSCRIPT}, e.g. after a Redis restart or on a new cluster primary). One key per script,
 * so it runs on Redis Cluster as it is.
 */
public final class RedisRateLimitStore implements RateLimitStore, AutoCloseable {
    /**
     * KEYS[1] the bucket; ARGV[1] capacity; ARGV[2] period in microseconds. Returns {allowed (1|0), microseconds until
     * a token is back}. State: a hash {t = tokens (a float), at = last refill time (µs)}.
     */
    static final String SCRIPT = """
            if redis.replicate_commands then redis.replicate_commands() end
            local capacity = tonumber(ARGV[1])
            local period = tonumber(ARGV[2])
            local clock = redis.call('TIME')
            local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
            local state = redis.call('HMGET', KEYS[1], 't', 'at')
            local tokens = tonumber(state[1])
            local at = tonumber(state[2])
            if tokens == nil or at == nil then
              tokens = capacity
              at = now
            end
            if now > at then
              tokens = math.min(capacity, tokens + (now - at) * capacity / period)
              at = now
            end
            local allowed = 0
            local wait = 0
            if tokens >= 1 then
              tokens = tokens - 1
              allowed = 1
            else
              wait = math.ceil((1 - tokens) * period / capacity)
            end
            redis.call('HSET', KEYS[1], 't', string.format('%.17g', tokens), 'at', string.format('%d', at))
            redis.call('PEXPIRE', KEYS[1], math.ceil((capacity - tokens) * period / capacity / 1000) + 1000)
            return {allowed, wait}
            """;
    static final String SHA = sha1(SCRIPT);

    private final StatefulConnection<String, byte[]> connection;
    private final RedisScriptingCommands<String, byte[]> scripting;
    private final String prefix;

    /** @param connection a standalone or a Redis Cluster connection */
    @SuppressWarnings("unchecked")
    public RedisRateLimitStore(StatefulConnection<String, byte[]> connection, String prefix) {
        this.connection = connection;
        this.prefix = prefix;
        this.scripting = connection instanceof StatefulRedisClusterConnection<String, byte[]> cluster ? cluster.sync()
                : ((StatefulRedisConnection<String, byte[]>) connection).sync();
    }

    @Override
    public Probe take(String key, Limit limit) {
        String[] keys = {prefix + key};
        byte[] capacity = Long.toString(limit.requests()).getBytes(StandardCharsets.US_ASCII);
        byte[] periodMicros = Long.toString(Math.max(1, limit.period().toNanos() / 1_000))
                .getBytes(StandardCharsets.US_ASCII);
        List<Object> r;
        try {
            try {
                r = scripting.evalsha(SHA, ScriptOutputType.MULTI, keys, capacity, periodMicros);
            } catch (RedisNoScriptException e) {
                // first use on this server (or it restarted): EVAL caches the script for the next EVALSHA
                r = scripting.eval(SCRIPT, ScriptOutputType.MULTI, keys, capacity, periodMicros);
            }
        } catch (RedisException e) {
            // Redis away or too slow: refuse like every other shared-state use (503, Lettuce reconnects by itself)
            throw new ServiceUnavailableException("rate limiter", e);
        }
        boolean allowed = ((Number) r.get(0)).longValue() == 1;
        return allowed ? Probe.ALLOWED : new Probe(false, ((Number) r.get(1)).longValue() * 1_000);
    }

    @Override
    public String backend() {
        return "redis (one Lua script per check)";
    }

    @Override
    public void close() {
        connection.close();
    }

    private static String sha1(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
