package dev.deputy.broker.testing;

import io.lettuce.core.KeyScanCursor;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisException;
import io.lettuce.core.ScanArgs;
import io.lettuce.core.ScanCursor;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;

import java.time.Duration;

/**
 * A key prefix of its own on the test Redis ({@code deputy_t:<run id>:<n>:}); {@link #close()} deletes every
 * key under it. An unreachable Redis fails the test.
 */
public final class RedisNamespace implements AutoCloseable {
    private final String uri;
    private final String prefix;
    private final RedisClient client;
    private final StatefulRedisConnection<String, String> connection;

    private RedisNamespace(String uri, String prefix) {
        this.uri = uri;
        this.prefix = prefix;
        this.client = RedisClient.create(uri);
        try {
            this.connection = client.connect();
            connection.setTimeout(Duration.ofSeconds(5));
            connection.sync().ping();
        } catch (RedisException e) {
            client.shutdown(Duration.ZERO, Duration.ofSeconds(1));
            throw new IllegalStateException("Redis at " + uri + " (DEPUTY_TEST_REDIS_URI) is not reachable: "
                    + e.getMessage() + " — start it with scripts/services", e);
        }
    }

    public static RedisNamespace create() {
        return new RedisNamespace(TestEnv.redisUri(), "deputy_t:" + TestEnv.runId() + ":" + TestEnv.next() + ":");
    }

    public String uri() {
        return uri;
    }

    public String prefix() {
        return prefix;
    }

    /** Direct access to the server, for assertions on raw keys. */
    public RedisCommands<String, String> redis() {
        return connection.sync();
    }

    public long keyCount() {
        long n = 0;
        ScanCursor cursor = ScanCursor.INITIAL;
        do {
            KeyScanCursor<String> page = redis().scan(cursor, ScanArgs.Builder.matches(prefix + "*").limit(500));
            n += page.getKeys().size();
            cursor = page;
        } while (!cursor.isFinished());
        return n;
    }

    @Override
    public void close() {
        try {
            ScanCursor cursor = ScanCursor.INITIAL;
            do {
                KeyScanCursor<String> page = redis().scan(cursor, ScanArgs.Builder.matches(prefix + "*").limit(500));
                if (!page.getKeys().isEmpty()) {
                    redis().del(page.getKeys().toArray(String[]::new));
                }
                cursor = page;
            } while (!cursor.isFinished());
        } finally {
            connection.close();
            client.shutdown(Duration.ZERO, Duration.ofSeconds(1));
        }
    }
}
