package dev.deputy.broker.storage.ephemeral;

import dev.deputy.broker.ephemeral.EphemeralStore;
import dev.deputy.broker.health.ServiceUnavailableException;
import io.lettuce.core.AbstractRedisClient;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisException;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SetArgs;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisStringAsyncCommands;
import io.lettuce.core.api.sync.BaseRedisCommands;
import io.lettuce.core.api.sync.RedisKeyCommands;
import io.lettuce.core.api.sync.RedisScriptingCommands;
import io.lettuce.core.api.sync.RedisStringCommands;
import io.lettuce.core.cluster.ClusterClientOptions;
import io.lettuce.core.cluster.ClusterTopologyRefreshOptions;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.RedisClusterURIUtil;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.cluster.models.partitions.RedisClusterNode;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.Delay;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Redis through Lettuce: one multiplexed connection for commands (thread-safe), one for pub/sub.
 * While Redis is away commands are rejected at once (503), and Lettuce reconnects by itself.
 *
 * <p>A URI of the form {@code redis-cluster://[user:password@]host:port,host:port[/?timeout=…]} (or
 * {@code rediss-cluster://} for TLS) names a Redis Cluster: Lettuce's cluster client then routes each command
 * to the primary of its key's slot, follows MOVED/ASK, and re-reads the topology on a failover (adaptive
 * triggers) and every {@value #TOPOLOGY_REFRESH_SECONDS} s. Every operation of the store touches one key (the
 * INCR script included), so no key needs a hash tag; a future multi-key script must put its keys in one slot
 * with a {@code {tag}}. Pub/sub uses cluster-wide PUBLISH, which every node forwards to its subscribers, so the
 * subscription may live on any node; Lettuce re-subscribes when that connection comes back.
 */
public final class RedisEphemeralStore implements EphemeralStore {
    private static final Logger LOG = LoggerFactory.getLogger(RedisEphemeralStore.class);
    private static final String INCR_WITH_TTL =
            "local v = redis.call('INCR', KEYS[1]) if v == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end return v";
    static final int TOPOLOGY_REFRESH_SECONDS = 5;
    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(2);

    private final ClientResources resources;
    private final AbstractRedisClient client;
    private final StatefulConnection<String, String> connection;
    private final StatefulRedisPubSubConnection<String, String> pubsub;
    private final RedisStringCommands<String, String> strings;
    /** The same commands, for the one-time marks: waited for without a timed park (see {@link #await}). */
    private final RedisStringAsyncCommands<String, String> stringsAsync;
    private final RedisKeyCommands<String, String> keys;
    private final RedisScriptingCommands<String, String> scripting;
    private final BaseRedisCommands<String, String> base;
    private final boolean cluster;
    private final String prefix;
    private final Map<String, List<Consumer<String>>> listeners = new ConcurrentHashMap<>();

    public RedisEphemeralStore(String uri, String prefix, Duration startupWait) {
        this(uri, prefix, startupWait, null);
    }

    /**
     * @param resources Lettuce's client resources (the metrics' command latency recorder), made from
     *                  {@link #resourcesBuilder()}; null for that builder's defaults. The store shuts them down with
     *                  the client.
     */
    public RedisEphemeralStore(String uri, String prefix, Duration startupWait, ClientResources resources) {
        this.prefix = prefix;
        this.cluster = isClusterUri(uri);
        this.resources = resources != null ? resources : resourcesBuilder().build();
        if (cluster) {
            List<RedisURI> seeds = clusterSeeds(uri);
            RedisClusterClient c = RedisClusterClient.create(this.resources, seeds);
            c.setOptions(ClusterClientOptions.builder()
                    .autoReconnect(true)
                    .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                    .timeoutOptions(TimeoutOptions.enabled(COMMAND_TIMEOUT))
                    .topologyRefreshOptions(ClusterTopologyRefreshOptions.builder()
                            .enablePeriodicRefresh(Duration.ofSeconds(TOPOLOGY_REFRESH_SECONDS))
                            .enableAllAdaptiveRefreshTriggers()
                            .refreshTriggersReconnectAttempts(1)
                            .adaptiveRefreshTriggersTimeout(Duration.ofMillis(500))
                            .closeStaleConnections(true)
                            .build())
                    .build());
            this.client = c;
            String where = "cluster " + seeds.stream().map(RedisEphemeralStore::address).collect(java.util.stream.Collectors.joining(","));
            StatefulRedisClusterConnection<String, String> conn = connectWithRetry(c::connect, where, startupWait);
            openToEveryNode(c, conn);
            this.connection = conn;
            this.pubsub = connectWithRetry(c::connectPubSub, where, startupWait);
            var sync = conn.sync();
            this.strings = sync;
            this.stringsAsync = conn.async();
            this.keys = sync;
            this.scripting = sync;
            this.base = sync;
        } else {
            RedisURI redisUri = RedisURI.create(uri);
            redisUri.setTimeout(COMMAND_TIMEOUT);
            RedisClient c = RedisClient.create(this.resources, redisUri);
            c.setOptions(ClientOptions.builder()
                    .autoReconnect(true)
                    .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                    .timeoutOptions(TimeoutOptions.enabled(COMMAND_TIMEOUT))
                    .build());
            this.client = c;
            StatefulRedisConnection<String, String> conn = connectWithRetry(c::connect, address(redisUri), startupWait);
            this.connection = conn;
            this.pubsub = connectWithRetry(c::connectPubSub, address(redisUri), startupWait);
            var sync = conn.sync();
            this.strings = sync;
            this.stringsAsync = conn.async();
            this.keys = sync;
            this.scripting = sync;
            this.base = sync;
        }
        pubsub.addListener(new RedisPubSubAdapter<>() {
            @Override
            public void message(String channel, String message) {
                if (!channel.startsWith(prefix)) {
                    return;
                }
                String local = channel.substring(prefix.length());
                for (Consumer<String> l : listeners.getOrDefault(local, List.of())) {
                    Thread.ofVirtual().start(() -> l.accept(message));
                }
            }
        });
    }

    /**
     * Node connections of a cluster connection are otherwise opened on first use, and a command meeting one still
     * connecting is rejected: open one to every node, replicas too (a replica becomes the primary on a failover).
     */
    private static <V> StatefulRedisClusterConnection<String, V> openToEveryNode(RedisClusterClient c,
                                                                             StatefulRedisClusterConnection<String, V> conn) {
        for (RedisClusterNode node : c.getPartitions()) {
            try {
                conn.getConnection(node.getUri().getHost(), node.getUri().getPort());
            } catch (RedisException e) {
                LOG.warn("Redis Cluster node {}:{} not reachable yet: {}", node.getUri().getHost(), node.getUri().getPort(),
                        e.getMessage());
            }
        }
        return conn;
    }

    /**
     * Client resources with the store's reconnect policy: attempts back off to at most 2 s (Lettuce's default is
     * 30 s), so that a node that comes back, or a promoted replica, is used again within seconds.
     */
    public static ClientResources.Builder resourcesBuilder() {
        return ClientResources.builder()
                .reconnectDelay(() -> Delay.exponential(Duration.ofMillis(50), Duration.ofSeconds(2), 2, TimeUnit.MILLISECONDS));
    }

    /** {@code redis-cluster://} or {@code rediss-cluster://}: a Redis Cluster, given by one or more seed nodes. */
    static boolean isClusterUri(String uri) {
        String u = uri.trim().toLowerCase(java.util.Locale.ROOT);
        return u.startsWith("redis-cluster://") || u.startsWith("rediss-cluster://");
    }

    /** The seed nodes of a cluster URI; the password, TLS and timeout settings apply to every node. */
    static List<RedisURI> clusterSeeds(String uri) {
        String u = uri.trim();
        int colon = u.indexOf("://");
        String scheme = u.substring(0, colon).toLowerCase(java.util.Locale.ROOT).startsWith("rediss") ? "rediss" : "redis";
        String rest = u.substring(colon + 3);
        String expected = "expected redis-cluster://[user:password@]host:port[,host:port…] (rediss-cluster:// for TLS)";
        List<RedisURI> seeds;
        try {
            seeds = RedisClusterURIUtil.toRedisURIs(URI.create(scheme + "://" + rest));
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("DEPUTY_REDIS_URI is not a usable cluster URI: " + expected, e);
        }
        if (seeds.isEmpty() || seeds.stream().anyMatch(s -> s.getHost() == null || s.getHost().isBlank())) {
            throw new IllegalArgumentException("DEPUTY_REDIS_URI names no cluster node: " + expected);
        }
        seeds.forEach(s -> s.setTimeout(COMMAND_TIMEOUT));
        return seeds;
    }

    /**
     * Connects, retrying for {@code wait} (Redis may start beside the broker); the first failure is reported at once
     * with the address and the cause, and so is the last one.
     */
    private static <C> C connectWithRetry(Supplier<C> connect, String where, Duration wait) {
        long deadline = System.nanoTime() + wait.toNanos();
        boolean reported = false;
        while (true) {
            try {
                return connect.get();
            } catch (RedisException e) {
                String cause = cause(e);
                if (System.nanoTime() >= deadline) {
                    throw new IllegalStateException("Redis at " + where + " is not reachable"
                            + (wait.isZero() ? "" : " after " + wait.toSeconds() + " s") + ": " + cause);
                }
                if (!reported) {
                    LOG.warn("Redis at {} is not reachable yet ({}); retrying for {} s", where, cause, wait.toSeconds());
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
        call(() -> strings.set(k(key), value, SetArgs.Builder.px(ttlMillis(ttl))));
    }

    @Override
    public Optional<String> get(String key) {
        return Optional.ofNullable(call(() -> strings.get(k(key))));
    }

    @Override
    public Optional<String> take(String key) {
        // GETDEL is atomic on the server: exactly one of concurrent takers sees the value.
        return Optional.ofNullable(call(() -> strings.getdel(k(key))));
    }

    @Override
    public boolean putIfAbsent(String key, String value, Duration ttl) {
        long ms = ttlMillis(ttl);
        return "OK".equals(call(() -> strings.set(k(key), value, SetArgs.Builder.nx().px(ms))));
    }

    /**
     * {@code SET key 1 NX PX ttl}, the {@code putIfAbsent} of the default, sent through the asynchronous API and
     * waited for untimed: the synchronous API waits with a timed park, which on a virtual thread (every request
     * handler) schedules and cancels a timer task of the JDK's per command, on top of the expiry Lettuce already
     * schedules for it. The command keeps its {@link #COMMAND_TIMEOUT} through {@code TimeoutOptions} (the client's
     * expiry completes it with a {@code RedisCommandTimeoutException}), so the wait stays bounded. One command per
     * private_key_jwt token: this is the token path's Redis round trip.
     */
    @Override
    public boolean markUsed(String key, Duration ttl) {
        long ms = ttlMillis(ttl);
        return "OK".equals(await(call(() -> stringsAsync.set(k(key), "1", SetArgs.Builder.nx().px(ms)))));
    }

    /** An asynchronous command's answer; a Redis failure (timeout, disconnected, error reply) is a 503. */
    private static <T> T await(RedisFuture<T> f) {
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            f.cancel(false);
            throw new ServiceUnavailableException("ephemeral", new RedisException("interrupted", e));
        } catch (ExecutionException e) {
            Throwable cause = e.getCause() == null ? e : e.getCause();
            throw new ServiceUnavailableException("ephemeral",
                    cause instanceof RedisException re ? re : new RedisException(cause.toString(), cause));
        } catch (java.util.concurrent.CancellationException e) {
            throw new ServiceUnavailableException("ephemeral", new RedisException("cancelled", e));
        }
    }

    @Override
    public long increment(String key, Duration ttl) {
        String ms = Long.toString(ttlMillis(ttl));
        Long v = call(() -> scripting.eval(INCR_WITH_TTL, ScriptOutputType.INTEGER, new String[]{k(key)}, ms));
        return v;
    }

    @Override
    public void delete(String key) {
        call(() -> keys.del(k(key)));
    }

    @Override
    public void publish(String channel, String message) {
        call(() -> base.publish(k(channel), message));
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

    /**
     * A further connection on this client for Bucket4j (string keys, byte-array bucket states): a cluster connection
     * when the store is on a cluster (each bucket is one key, so its compare-and-swap script stays in one slot).
     */
    StatefulConnection<String, byte[]> connectBytes() {
        var codec = io.lettuce.core.codec.RedisCodec.of(io.lettuce.core.codec.StringCodec.UTF8,
                io.lettuce.core.codec.ByteArrayCodec.INSTANCE);
        return client instanceof RedisClusterClient c ? openToEveryNode(c, c.connect(codec)) : ((RedisClient) client).connect(codec);
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
        return cluster ? "redis-cluster" : "redis";
    }

    @Override
    public boolean up() {
        try {
            return connection.isOpen() && "PONG".equals(base.ping());
        } catch (RedisException e) {
            return false;
        }
    }

    @Override
    public void close() {
        pubsub.close();
        connection.close();
        client.shutdown(Duration.ZERO, Duration.ofSeconds(1));
        resources.shutdown(0, 1, TimeUnit.SECONDS);
    }
}
