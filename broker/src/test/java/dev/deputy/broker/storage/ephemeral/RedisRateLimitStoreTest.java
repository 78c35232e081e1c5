package dev.deputy.broker.storage.ephemeral;

import dev.deputy.broker.config.Limit;
import dev.deputy.broker.health.ServiceUnavailableException;
import dev.deputy.broker.ratelimit.RateLimitStore;
import dev.deputy.broker.testing.PrivateServer;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.codec.RedisCodec;
import io.lettuce.core.codec.StringCodec;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 16: the Redis rate-limit check is one round trip ({@code EVALSHA} of one script), and two nodes taking from
 * one bucket at once never hand out more than it holds. On a private {@code redis-server}, so that its command
 * statistics count this test's commands only.
 */
class RedisRateLimitStoreTest {
    @TempDir
    static Path dir;
    static PrivateServer.Redis redis;
    static RedisClient client;
    static StatefulRedisConnection<String, String> admin;

    @BeforeAll
    static void start() {
        redis = new PrivateServer.Redis(dir);
        redis.start();
        RedisURI uri = RedisURI.create(redis.uri());
        uri.setTimeout(Duration.ofSeconds(2));
        client = RedisClient.create(uri);
        admin = client.connect();
    }

    @AfterAll
    static void stop() {
        if (admin != null) {
            admin.close();
        }
        if (client != null) {
            client.shutdown();
        }
        if (redis != null) {
            redis.close();
        }
    }

    static RedisRateLimitStore node(String prefix) {
        return new RedisRateLimitStore(client.connect(RedisCodec.of(StringCodec.UTF8, ByteArrayCodec.INSTANCE)), prefix);
    }

    /** calls of one command in {@code INFO commandstats} (0 when never called). */
    static long calls(String command) {
        Matcher m = Pattern.compile("cmdstat_" + command + ":calls=(\\d+)").matcher(admin.sync().info("commandstats"));
        return m.find() ? Long.parseLong(m.group(1)) : 0;
    }

    @Test
    void oneRoundTripPerCheck() {
        try (RedisRateLimitStore store = node("rt:")) {
            Limit limit = Limit.parse("1000/1m");
            store.take("rl:token_per_client:demo:payments.settlement.reconciler:1000/1m", limit); // loads the script
            admin.sync().configResetstat();
            for (int i = 0; i < 100; i++) {
                assertTrue(store.take("rl:token_per_client:demo:payments.settlement.reconciler:1000/1m", limit).allowed());
            }
            assertEquals(100, calls("evalsha"), "one EVALSHA per check");
            // no GET + EVAL compare-and-swap pair, no transaction (commandstats also counts a script's own calls:
            // TIME, HMGET, HSET and PEXPIRE once per check, all inside the one EVALSHA)
            assertEquals(0, calls("eval") + calls("get") + calls("watch") + calls("multi"), admin.sync().info("commandstats"));
            assertEquals(100, calls("hmget"));
            assertEquals(100, calls("hset"));
        }
    }

    @Test
    void aJtiMarkAndTheClientsBucketInOneRoundTrip() {
        Limit limit = Limit.parse("3/1h");
        String bucket = "rl:token_per_client:demo:payments.settlement.reconciler:3/1h";
        String mark = "pkjwt-jti:demo:payments.settlement.reconciler:";
        try (RedisRateLimitStore store = node("mark:");
             RedisEphemeralStore marks = new RedisEphemeralStore(redis.uri(), "mark:", Duration.ZERO)) {
            store.markAndTake(marks, mark + "warm", Duration.ofMinutes(6), "rl:other", limit); // loads the script
            admin.sync().configResetstat();
            RateLimitStore.MarkProbe first = store.markAndTake(marks, mark + "a", Duration.ofMinutes(6), bucket, limit);
            assertTrue(first.fresh() && first.probe().allowed());
            assertEquals(1, calls("evalsha"), "one EVALSHA: the mark and the take together");
            // the script's own calls: SET NX PX, then TIME, HMGET, HSET, PEXPIRE of the bucket; nothing else was sent
            assertEquals(1, calls("set"));
            assertEquals(0, calls("eval") + calls("get") + calls("exists"), admin.sync().info("commandstats"));
            // a replay: refused, and the bucket untouched (a replayed assertion never takes its client's requests)
            for (int i = 0; i < 5; i++) {
                assertFalse(store.markAndTake(marks, mark + "a", Duration.ofMinutes(6), bucket, limit).fresh());
            }
            assertEquals(1, calls("hset"), "no take for a replay");
            // the same mark as the ephemeral store's own (SET NX PX, "1"): each sees the other's
            assertFalse(marks.markUsed(mark + "a", Duration.ofMinutes(6)));
            assertTrue(marks.markUsed(mark + "b", Duration.ofMinutes(6)));
            assertFalse(store.markAndTake(marks, mark + "b", Duration.ofMinutes(6), bucket, limit).fresh());
            assertEquals("1", admin.sync().get("mark:" + mark + "a"));
            long pttl = admin.sync().pttl("mark:" + mark + "a");
            assertTrue(pttl > 350_000 && pttl <= 360_000, "the mark lives its TTL: " + pttl);
            // the bucket held 3: two more fresh marks are allowed, the next is fresh (marked) but over the limit
            assertTrue(store.markAndTake(marks, mark + "c", Duration.ofMinutes(6), bucket, limit).probe().allowed());
            assertTrue(store.markAndTake(marks, mark + "d", Duration.ofMinutes(6), bucket, limit).probe().allowed());
            RateLimitStore.MarkProbe over = store.markAndTake(marks, mark + "e", Duration.ofMinutes(6), bucket, limit);
            assertTrue(over.fresh());
            assertFalse(over.probe().allowed());
            assertTrue(over.probe().retryAfterSeconds() >= 1 && over.probe().retryAfterSeconds() <= 1200,
                    "" + over.probe().retryAfterSeconds());
            assertFalse(marks.markUsed(mark + "e", Duration.ofMinutes(6)), "a refused request still used its jti");
            assertThrows(IllegalArgumentException.class,
                    () -> store.markAndTake(marks, mark + "f", Duration.ZERO, bucket, limit));
        }
    }

    @Test
    void theMarkScriptComesBackAfterARestartedScriptCache() {
        try (RedisRateLimitStore store = node("mark-flush:");
             RedisEphemeralStore marks = new RedisEphemeralStore(redis.uri(), "mark-flush:", Duration.ZERO)) {
            Limit limit = Limit.parse("5/1m");
            assertTrue(store.markAndTake(marks, "pkjwt-jti:t:c:1", Duration.ofSeconds(30), "rl:b", limit).fresh());
            admin.sync().scriptFlush();
            assertTrue(store.markAndTake(marks, "pkjwt-jti:t:c:2", Duration.ofSeconds(30), "rl:b", limit).probe().allowed());
            assertFalse(store.markAndTake(marks, "pkjwt-jti:t:c:2", Duration.ofSeconds(30), "rl:b", limit).fresh());
        }
    }

    @Test
    void twoNodesNeverHandOutMoreThanTheBucketHolds() throws Exception {
        Limit limit = Limit.parse("50/1h");
        String key = "rl:token_per_client:demo:jonathan.christopher.williams:50/1h";
        try (RedisRateLimitStore a = node("shared:"); RedisRateLimitStore b = node("shared:")) {
            ExecutorService pool = Executors.newFixedThreadPool(8);
            try {
                List<Callable<RateLimitStore.Probe>> work = new ArrayList<>();
                for (int i = 0; i < 200; i++) {
                    RedisRateLimitStore s = i % 2 == 0 ? a : b;
                    work.add(() -> s.take(key, limit));
                }
                int allowed = 0;
                long maxWait = 0;
                for (Future<RateLimitStore.Probe> f : pool.invokeAll(work)) {
                    RateLimitStore.Probe p = f.get();
                    allowed += p.allowed() ? 1 : 0;
                    maxWait = Math.max(maxWait, p.nanosToWait());
                }
                assertEquals(50, allowed, "exactly the bucket's capacity across both nodes");
                // one token comes back every 72 s (3600 s / 50): the refused were told to wait about that
                assertTrue(maxWait > 60_000_000_000L && maxWait <= 72_000_000_000L, "wait " + maxWait);
            } finally {
                pool.shutdownNow();
            }
            RateLimitStore.Probe refused = a.take(key, limit);
            assertFalse(refused.allowed());
            assertTrue(refused.retryAfterSeconds() >= 60 && refused.retryAfterSeconds() <= 72, "" + refused.retryAfterSeconds());
            // another bucket (another subject, or another node's prefix) is untouched
            assertTrue(a.take("rl:token_per_client:demo:zoe-agent:50/1h", limit).allowed());
            assertTrue(node("other:").take(key, limit).allowed());
            // the key expires once the bucket would be full again: 50 tokens x 72 s, plus a margin
            long pttl = admin.sync().pttl("shared:" + key);
            assertTrue(pttl > 3_500_000 && pttl <= 3_601_000, "pttl " + pttl);
        }
    }

    @Test
    void tokensComeBackWithTime() throws Exception {
        Limit limit = Limit.parse("2/1s");
        try (RedisRateLimitStore s = node("refill:")) {
            assertTrue(s.take("k", limit).allowed());
            assertTrue(s.take("k", limit).allowed());
            RateLimitStore.Probe p = s.take("k", limit);
            assertFalse(p.allowed());
            assertTrue(p.nanosToWait() > 0 && p.nanosToWait() <= 500_000_000L, "" + p.nanosToWait());
            // wait for the condition (a token back), bounded, not a fixed window
            long deadline = System.nanoTime() + 10_000_000_000L;
            boolean back = false;
            while (!back && System.nanoTime() < deadline) {
                Thread.sleep(Math.max(1, p.nanosToWait() / 1_000_000));
                back = s.take("k", limit).allowed();
            }
            assertTrue(back);
        }
    }

    @Test
    void aRestartedRedisIsServedAgainAndAnAbsentOneIsA503() {
        try (RedisRateLimitStore s = node("restart:")) {
            assertTrue(s.take("k", Limit.parse("5/1m")).allowed());
            admin.sync().scriptFlush(); // as after a restart: the script cache is empty (NOSCRIPT, then EVAL)
            assertTrue(s.take("k", Limit.parse("5/1m")).allowed());
            redis.kill();
            try {
                assertThrows(ServiceUnavailableException.class, () -> s.take("k", Limit.parse("5/1m")));
            } finally {
                redis.start();
            }
        }
    }
}
