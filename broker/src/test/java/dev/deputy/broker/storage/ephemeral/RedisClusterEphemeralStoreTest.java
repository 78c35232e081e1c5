package dev.deputy.broker.storage.ephemeral;

import dev.deputy.broker.ephemeral.EphemeralStore;
import dev.deputy.broker.health.ServiceUnavailableException;
import dev.deputy.broker.testing.RedisCluster;
import io.lettuce.core.cluster.SlotHash;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The ephemeral store contract on a real six-process Redis Cluster ({@code redis-cluster://} URI, Lettuce's
 * cluster client), plus what only a cluster has: keys spread over every primary, pub/sub between two nodes'
 * stores connected to different cluster nodes, and a primary's crash: its keys answer 503 until its replica
 * takes over, then the same store serves them again without a restart.
 */
@Timeout(value = 4, unit = TimeUnit.MINUTES)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RedisClusterEphemeralStoreTest extends EphemeralStoreContract {
    static final String PREFIX = "deputy:cluster-test:";
    Path dir;
    RedisCluster cluster;

    @Override
    EphemeralStore open() {
        try {
            dir = Files.createTempDirectory("deputy-redis-cluster");
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        cluster = RedisCluster.start(dir);
        return new RedisEphemeralStore(cluster.uri(), PREFIX, Duration.ofSeconds(10));
    }

    @Override
    String expectedBackend() {
        return "redis-cluster";
    }

    @AfterAll
    void stopCluster() throws IOException {
        if (cluster != null) {
            cluster.close();
        }
        if (dir != null) {
            try (Stream<Path> files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    /** A key (as the caller names it) whose prefixed form lives on the given primary. */
    String keyOn(RedisCluster.Node primary, String purpose) {
        while (true) {
            String k = key(purpose);
            if (primary.servesSlot(SlotHash.getSlot(PREFIX + k))) {
                return k;
            }
        }
    }

    @Test
    void clusterUrisAreRecognisedAndBadOnesExplained() {
        assertTrue(RedisEphemeralStore.isClusterUri("redis-cluster://a:1,b:2"));
        assertTrue(RedisEphemeralStore.isClusterUri("REDISS-CLUSTER://a:1"));
        assertFalse(RedisEphemeralStore.isClusterUri("redis://a:1"));
        var seeds = RedisEphemeralStore.clusterSeeds("rediss-cluster://:s3cr%40t@h1.example:7000,h2.example:7001/?timeout=3s");
        assertEquals(2, seeds.size());
        assertEquals("h2.example", seeds.get(1).getHost());
        assertEquals(7001, seeds.get(1).getPort());
        assertTrue(seeds.stream().allMatch(s -> s.isSsl()), "TLS applies to every seed");
        assertTrue(seeds.stream().allMatch(s -> new String(s.getCredentialsProvider().resolveCredentials().block().getPassword()).equals("s3cr@t")),
                "the password applies to every seed");
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
                () -> RedisEphemeralStore.clusterSeeds("redis-cluster://"));
        assertTrue(bad.getMessage().contains("redis-cluster://[user:password@]host:port"), bad.getMessage());
    }

    @Test
    void keysAreSpreadOverEveryPrimary() {
        List<RedisCluster.Node> primaries = cluster.primaries();
        assertEquals(3, primaries.size(), "three primaries");
        for (RedisCluster.Node p : primaries) {
            String k = keyOn(p, "code");
            store.put(k, "on " + p.address() + " ü.é", LONG);
            assertEquals(Optional.of("on " + p.address() + " ü.é"), store.get(k));
            assertTrue(store.putIfAbsent(keyOn(p, "jti"), "1", LONG));
            assertEquals(1, store.increment(keyOn(p, "rate"), LONG));
        }
    }

    @Test
    void rateLimitBucketsAreSharedOnTheCluster() throws Exception {
        // Bucket4j's compare-and-swap on a cluster connection: two nodes take from one bucket, on every primary
        try (RedisEphemeralStore node2 = new RedisEphemeralStore(cluster.uri(), PREFIX, Duration.ofSeconds(10));
             RedisRateLimitStore a = new RedisRateLimitStore(((RedisEphemeralStore) store).connectBytes(), PREFIX);
             RedisRateLimitStore b = new RedisRateLimitStore(node2.connectBytes(), PREFIX)) {
            dev.deputy.broker.config.Limit limit = new dev.deputy.broker.config.Limit(4, Duration.ofMinutes(10));
            for (RedisCluster.Node p : cluster.primaries()) {
                String bucket = keyOn(p, "rl:token:client ü.1");
                int allowed = 0;
                for (int i = 0; i < 10; i++) {
                    if ((i % 2 == 0 ? a : b).take(bucket, limit).allowed()) {
                        allowed++;
                    }
                }
                assertEquals(4, allowed, "one bucket of 4 across both nodes, on " + p.address());
                assertFalse(a.take(bucket, limit).allowed());
                assertTrue(a.take(bucket, limit).retryAfterSeconds() >= 1);
            }
        }
    }

    @Test
    void twoNodesShareStateAndFanOutAcrossTheCluster() throws Exception {
        try (RedisEphemeralStore node2 = new RedisEphemeralStore(cluster.uri(), PREFIX, Duration.ofSeconds(10))) {
            String code = key("code");
            store.put(code, "issued-on-node-1", LONG);
            assertEquals(Optional.of("issued-on-node-1"), node2.take(code));
            assertEquals(Optional.empty(), store.take(code));

            // the channel hashes to any slot; PUBLISH reaches subscribers on every cluster node
            Set<String> received = new HashSet<>();
            for (int i = 0; i < 5; i++) {
                String channel = key("revoked." + i);
                BlockingQueue<String> got = new LinkedBlockingQueue<>();
                try (AutoCloseable sub = node2.subscribe(channel, got::add)) {
                    store.publish(channel, "agt_" + i);
                    String m = got.poll(5, TimeUnit.SECONDS);
                    assertEquals("agt_" + i, m);
                    received.add(m);
                }
            }
            assertEquals(5, received.size());
        }
    }

    @Test
    @Order(Integer.MAX_VALUE) // last: the cluster stays one primary short (its replica promoted)
    void aPrimaryCrashAnswers503UntilItsReplicaTakesOverThenRecoversWithoutRestart() throws Exception {
        RedisCluster.Node victim = cluster.primaries().getFirst();
        RedisCluster.Node replica = cluster.replicaOf(victim);
        String before = keyOn(victim, "code");
        store.put(before, "written before the crash", LONG);
        String during = keyOn(victim, "jti");
        // replication is asynchronous: crash the primary only once its replica holds the value
        cluster.await("the replica holds the value", Duration.ofSeconds(30),
                () -> replica.readOnlyGet(PREFIX + before).isPresent());

        victim.kill();
        // until the replica is promoted, the slot has no primary: a typed 503, never a hang or a wrong answer
        ServiceUnavailableException down = assertThrows(ServiceUnavailableException.class,
                () -> store.putIfAbsent(during, "1", LONG));
        assertEquals("ephemeral", down.dependency());

        cluster.await("the replica " + replica.address() + " is a primary", Duration.ofSeconds(60),
                () -> replica.role().orElse("").equals("master"));
        // the same store (no restart) finds the new primary by itself
        cluster.await("the store serves the crashed primary's slots again", Duration.ofSeconds(60), () -> {
            try {
                return store.putIfAbsent(during, "1", LONG);
            } catch (ServiceUnavailableException e) {
                return false;
            }
        });
        assertFalse(store.putIfAbsent(during, "1", LONG), "single use holds on the new primary");
        assertEquals(Optional.of("written before the crash"), store.get(before), "what was replicated survives");

    }
}
