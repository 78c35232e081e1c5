package dev.deputy.broker.storage.ephemeral;

import dev.deputy.broker.ephemeral.EphemeralStore;
import dev.deputy.broker.health.ServiceUnavailableException;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SetArgs;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Redis through Lettuce: one multiplexed connection for commands (thread-safe), one for pub/sub.
 * While Redis is away commands are rejected at once (503), and Lettuce reconnects by itself.
 */
public final class RedisEphemeralStore implements EphemeralStore {
    private static final Logger LOG = LoggerFactory.getLogger(RedisEphemeralStore.class);
    private static final String INCR_WITH_TTL =
            "local v = redis.call('INCR', KEYS[1]) if v == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end return v";

    private final RedisClient client;
    private final StatefulRedisConnection<String, String> connection;
    private final StatefulRedisPubSubConnection<String, String> pubsub;
    private final RedisCommands<String, String> redis;
    private final String prefix;
    private final Map<String, List<Consumer<String>>> listeners = new ConcurrentHashMap<>();

    public RedisEphemeralStore(String uri, String prefix, Duration startupWait) {
        this.prefix = prefix;
        RedisURI redisUri = RedisURI.create(uri);
        redisUri.setTimeout(Duration.ofSeconds(2));
        this.client = RedisClient.create(redisUri);
        client.setOptions(ClientOptions.builder()
                .autoReconnect(true)
                .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                .timeoutOptions(TimeoutOptions.enabled(Duration.ofSeconds(2)))
                .build());
        this.connection = connectWithRetry(client::connect, startupWait);
        this.pubsub = connectWithRetry(client::connectPubSub, startupWait);
        this.redis = connection.sync();
        pubsub.addListener(new RedisPubSubAdapter<>() {
            @Override
            public void message(String channel, String message) {
                String local = channel.substring(prefix.length());
                for (Consumer<String> l : listeners.getOrDefault(local, List.of())) {
                    Thread.ofVirtual().start(() -> l.accept(message));
                }
            }
        });
    }

    private static <C> C connectWithRetry(Supplier<C> connect, Duration wait) {
        long deadline = System.nanoTime() + wait.toNanos();
        while (true) {
            try {
                return connect.get();
            } catch (RedisException e) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("Redis is not reachable after " + wait.toSeconds() + " s: " + e.getMessage());
                }
                LOG.warn("waiting for Redis: {}", e.getMessage());
                try {
                    Thread.sleep(1_000);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted", ie);
                }
            }
        }
    }

    private <T> T call(Supplier<T> op) {
        try {
            return op.get();
        } catch (RedisException e) {
            throw new ServiceUnavailableException("ephemeral", e);
        }
    }

    private String k(String key) {
        return prefix + key;
    }

    /** Same rule as the in-process store: a caller's bad TTL is a bug (IllegalArgumentException), not a 503. */
    private static long ttlMillis(Duration ttl) {
        if (ttl.isNegative() || ttl.isZero()) {
            throw new IllegalArgumentException("ttl must be positive");
        }
        return Math.max(1, ttl.toMillis());
    }

    @Override
    public void put(String key, String value, Duration ttl) {
        call(() -> redis.set(k(key), value, SetArgs.Builder.px(ttlMillis(ttl))));
    }

    @Override
    public Optional<String> get(String key) {
        return Optional.ofNullable(call(() -> redis.get(k(key))));
    }

    @Override
    public Optional<String> take(String key) {
        // GETDEL is atomic on the server: exactly one of concurrent takers sees the value.
        return Optional.ofNullable(call(() -> redis.getdel(k(key))));
    }

    @Override
    public boolean putIfAbsent(String key, String value, Duration ttl) {
        long ms = ttlMillis(ttl);
        return "OK".equals(call(() -> redis.set(k(key), value, SetArgs.Builder.nx().px(ms))));
    }

    @Override
    public long increment(String key, Duration ttl) {
        String ms = Long.toString(ttlMillis(ttl));
        Long v = call(() -> redis.eval(INCR_WITH_TTL, ScriptOutputType.INTEGER, new String[]{k(key)}, ms));
        return v;
    }

    @Override
    public void delete(String key) {
        call(() -> redis.del(k(key)));
    }

    @Override
    public void publish(String channel, String message) {
        call(() -> redis.publish(k(channel), message));
    }

    @Override
    public AutoCloseable subscribe(String channel, Consumer<String> listener) {
        List<Consumer<String>> list = listeners.computeIfAbsent(channel, c -> new CopyOnWriteArrayList<>());
        if (list.isEmpty()) {
            call(() -> {
                pubsub.sync().subscribe(k(channel));
                return null;
            });
        }
        list.add(listener);
        return () -> list.remove(listener);
    }

    /** A further connection on this client for Bucket4j (string keys, byte-array bucket states). */
    StatefulRedisConnection<String, byte[]> connectBytes() {
        return client.connect(io.lettuce.core.codec.RedisCodec.of(io.lettuce.core.codec.StringCodec.UTF8,
                io.lettuce.core.codec.ByteArrayCodec.INSTANCE));
    }

    String prefix() {
        return prefix;
    }

    @Override
    public String name() {
        return "ephemeral";
    }

    @Override
    public String backend() {
        return "redis";
    }

    @Override
    public boolean up() {
        try {
            return connection.isOpen() && "PONG".equals(redis.ping());
        } catch (RedisException e) {
            return false;
        }
    }

    @Override
    public void close() {
        pubsub.close();
        connection.close();
        client.shutdown(Duration.ZERO, Duration.ofSeconds(1));
    }
}
