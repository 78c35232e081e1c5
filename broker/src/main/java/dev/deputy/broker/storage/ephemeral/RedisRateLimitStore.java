package dev.deputy.broker.storage.ephemeral;

import dev.deputy.broker.config.Limit;
import dev.deputy.broker.ephemeral.EphemeralStore;
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
import java.time.Duration;
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
     * The bucket itself, on the variables {@code bucket} (its key), {@code capacity} and {@code period} (µs); leaves
     * {@code allowed} (1|0) and {@code wait} (µs until a token is back). State: a hash {t = tokens (a float),
     * at = last refill time (µs)}.
     */
    private static final String BUCKET = """
            local clock = redis.call('TIME')
            local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
            local state = redis.call('HMGET', bucket, 't', 'at')
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
            redis.call('HSET', bucket, 't', string.format('%.17g', tokens), 'at', string.format('%d', at))
            redis.call('PEXPIRE', bucket, math.ceil((capacity - tokens) * period / capacity / 1000) + 1000)
            """;
    /** KEYS[1] the bucket; ARGV[1] capacity; ARGV[2] period in µs. Returns {allowed (1|0), µs until a token is back}. */
    static final String SCRIPT = "if redis.replicate_commands then redis.replicate_commands() end\n"
            + "local bucket = KEYS[1]\nlocal capacity = tonumber(ARGV[1])\nlocal period = tonumber(ARGV[2])\n"
            + BUCKET + "return {allowed, wait}\n";
    /**
     * A one-time mark and a take, in one round trip: KEYS[1] the mark ({@code SET NX PX}, the value "1", exactly what
     * {@code RedisEphemeralStore.markUsed} writes), KEYS[2] the bucket; ARGV[1] the mark's TTL in ms, ARGV[2] capacity,
     * ARGV[3] period in µs. Returns {0, 0, 0} for a replayed mark (the bucket untouched), else {1, allowed, wait}.
     */
    static final String MARK_SCRIPT = "if redis.replicate_commands then redis.replicate_commands() end\n"
            + "if not redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[1]) then return {0, 0, 0} end\n"
            + "local bucket = KEYS[2]\nlocal capacity = tonumber(ARGV[2])\nlocal period = tonumber(ARGV[3])\n"
            + BUCKET + "return {1, allowed, wait}\n";
    static final String MARK_SHA = sha1(MARK_SCRIPT);
    static final String SHA = sha1(SCRIPT);

    private final StatefulConnection<String, byte[]> connection;
    private final RedisScriptingCommands<String, byte[]> scripting;
    private final String prefix;
    /** On Redis Cluster a mark and a bucket live in different slots: one script cannot hold both. */
    private final boolean cluster;

    /** @param connection a standalone or a Redis Cluster connection */
    @SuppressWarnings("unchecked")
    public RedisRateLimitStore(StatefulConnection<String, byte[]> connection, String prefix) {
        this.connection = connection;
        this.prefix = prefix;
        this.cluster = connection instanceof StatefulRedisClusterConnection;
        this.scripting = connection instanceof StatefulRedisClusterConnection<String, byte[]> cluster ? cluster.sync()
                : ((StatefulRedisConnection<String, byte[]>) connection).sync();
    }

    @Override
    public Probe take(String key, Limit limit) {
        List<Object> r = run(SHA, SCRIPT, new String[]{prefix + key}, ascii(limit.requests()), periodMicros(limit));
        return probe(r, 0);
    }

    /**
     * One script for both (standalone Redis, Sentinel): the token endpoint's private_key_jwt request pays one round
     * trip for its {@code jti} and its {@code token_per_client} bucket. On a cluster the two keys hash to different
     * slots, so the two are asked apart (the default: two round trips, the same answers).
     */
    @Override
    public MarkProbe markAndTake(EphemeralStore marks, String markKey, Duration ttl, String bucketKey, Limit limit) {
        if (cluster) {
            return RateLimitStore.super.markAndTake(marks, markKey, ttl, bucketKey, limit);
        }
        if (ttl.isNegative() || ttl.isZero()) {
            throw new IllegalArgumentException("ttl must be positive");
        }
        List<Object> r = run(MARK_SHA, MARK_SCRIPT, new String[]{prefix + markKey, prefix + bucketKey},
                ascii(Math.max(1, ttl.toMillis())), ascii(limit.requests()), periodMicros(limit));
        if (((Number) r.get(0)).longValue() != 1) {
            return MarkProbe.REPLAYED;
        }
        return new MarkProbe(true, probe(r, 1));
    }

    private static Probe probe(List<Object> r, int at) {
        boolean allowed = ((Number) r.get(at)).longValue() == 1;
        return allowed ? Probe.ALLOWED : new Probe(false, ((Number) r.get(at + 1)).longValue() * 1_000);
    }

    private static byte[] ascii(long n) {
        return Long.toString(n).getBytes(StandardCharsets.US_ASCII);
    }

    private static byte[] periodMicros(Limit limit) {
        return ascii(Math.max(1, limit.period().toNanos() / 1_000));
    }

    private List<Object> run(String sha, String script, String[] keys, byte[]... args) {
        try {
            try {
                return scripting.evalsha(sha, ScriptOutputType.MULTI, keys, args);
            } catch (RedisNoScriptException e) {
                // first use on this server (or it restarted): EVAL caches the script for the next EVALSHA
                return scripting.eval(script, ScriptOutputType.MULTI, keys, args);
            }
        } catch (RedisException e) {
            // Redis away or too slow: refuse like every other shared-state use (503, Lettuce reconnects by itself)
            throw new ServiceUnavailableException("rate limiter", e);
        }
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
