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
import io.lettuce.core.resource.ClientResources;
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
    private final ClientResources resources;
    private final Map<String, List<Consumer<String>>> listeners = new ConcurrentHashMap<>();

    public RedisEphemeralStore(String uri, String prefix, Duration startupWait) {
        this(uri, prefix, startupWait, null);
    }

    /**
     * @param resources Lettuce's client resources (the metrics' command latency recorder); null for Lettuce's own
     *                  defaults. The store shuts them down with the client.
     */
    public RedisEphemeralStore(String uri, String prefix, Duration startupWait, ClientResources resources) {
        this.prefix = prefix;
        this.resources = resources;
        RedisURI redisUri = RedisURI.create(uri);
        redisUri.setTimeout(Duration.ofSeconds(2));
        this.client = resources == null ? RedisClient.create(redisUri) : RedisClient.create(resources, redisUri);
        client.setOptions(ClientOptions.builder()
                .autoReconnect(true)
                .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                .timeoutOptions(TimeoutOptions.enabled(Duration.ofSeconds(2)))
                .build());
        this.connection = connectWithRetry(client::connect, redisUri, startupWait);
        this.pubsub = connectWithRetry(client::connectPubSub, redisUri, startupWait);
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

    /**
     * Connects, retrying for {@code wait} (Redis may start beside the broker); the first failure is reported at once
     * with the address and the cause, and so is the last one.
     */
    private static <C> C connectWithRetry(Supplier<C> connect, RedisURI uri, Duration wait) {
        long deadline = System.nanoTime() + wait.toNanos();
        boolean reported = false;
        while (true) {
            try {
                return connect.get();
            } catch (RedisException e) {
                String cause = cause(e);
                if (System.nanoTime() >= deadline) {
                    throw new IllegalStateException("Redis at " + address(uri) + " is not reachable"
                            + (wait.isZero() ? "" : " after " + wait.toSeconds() + " s") + ": " + cause);
                }
                if (!reported) {
                    LOG.warn("Redis at {} is not reachable yet ({}); retrying for {} s", address(uri), cause, wait.toSeconds());
                    reported = true;
                }
                try {
                    Thread.sleep(1_000);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted", ie);
                }
            }
        }
    }

    /** host:port, never the password a redis:// URI may carry. */
    static String address(RedisURI uri) {
        return uri.getSocket() != null ? uri.getSocket() : uri.getHost() + ":" + uri.getPort();
    }

    /** The innermost cause's message (e.g. "Connection refused"), with its type when it says little alone. */
    static String cause(Throwable e) {
        Throwable c = e;
        while (c.getCause() != null && c.getCause() != c) {
            c = c.getCause();
        }
        String m = c.getMessage();
        if (m == null || m.isBlank()) {
            return c.getClass().getSimpleName();
        }
        // Netty's "Connection refused: /127.0.0.1:6379" repeats the address
        int colon = m.indexOf(": /");
        return colon > 0 ? m.substring(0, colon) : m;
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
        if (resources != null) {
            resources.shutdown(0, 1, java.util.concurrent.TimeUnit.SECONDS);
        }
    }
}
