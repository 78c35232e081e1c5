package dev.deputy.broker.testing;

import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;

/**
 * A Redis Cluster of the test's own: six {@code redis-server} processes on spare loopback ports (three
 * primaries, one replica each), joined by {@code redis-cli --cluster create}. A node can be killed (a crash)
 * or a replica promoted ({@code CLUSTER FAILOVER}); {@link #close()} kills every process. Nothing is written
 * to disk but the nodes' cluster config files in the test's directory.
 */
public final class RedisCluster implements AutoCloseable {
    /** How long a primary may be silent before its replica takes over; short, so that a test's gap is short. */
    public static final int NODE_TIMEOUT_MS = 1000;
    private static final Duration FORMATION = Duration.ofSeconds(60);

    private final List<Node> nodes = new ArrayList<>();

    /** One node: a {@link PrivateServer.Redis}-like child process in cluster mode, with a bus port of its own. */
    public static final class Node extends PrivateServer {
        private final String exe = executable("redis-server", "redis-server", "/usr/bin/redis-server");
        private final int busPort = sparePort();

        Node(Path dir) {
            super("redis-cluster-node", dir);
        }

        public String address() {
            return "127.0.0.1:" + port;
        }

        @Override
        protected List<String> command() {
            return List.of(exe, "--port", Integer.toString(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                    "--daemonize", "no", "--dir", dir.toString(), "--logfile", "", "--protected-mode", "no",
                    "--cluster-enabled", "yes", "--cluster-port", Integer.toString(busPort),
                    "--cluster-config-file", dir.resolve("nodes.conf").toString(),
                    "--cluster-node-timeout", Integer.toString(NODE_TIMEOUT_MS),
                    // a replica whose primary is gone takes over however long it was disconnected
                    "--cluster-replica-validity-factor", "0");
        }

        @Override
        protected boolean ready() {
            return info("ping").isPresent();
        }

        /** One command's reply as text ({@code CLUSTER INFO}, {@code CLUSTER NODES}, {@code PING}), empty when unreachable. */
        public Optional<String> info(String what) {
            RedisClient c = RedisClient.create(RedisURI.Builder.redis("127.0.0.1", port).withTimeout(Duration.ofSeconds(2)).build());
            try (StatefulRedisConnection<String, String> conn = c.connect()) {
                var sync = conn.sync();
                return Optional.ofNullable(switch (what) {
                    case "ping" -> sync.ping();
                    case "info" -> sync.clusterInfo();
                    case "nodes" -> sync.clusterNodes();
                    case "myid" -> sync.clusterMyId();
                    case "failover" -> sync.clusterFailover(false);
                    default -> throw new IllegalArgumentException(what);
                });
            } catch (RedisException e) {
                return Optional.empty();
            } finally {
                c.shutdown(Duration.ZERO, Duration.ofSeconds(1));
            }
        }

        /** Whether this node answers and sees the whole cluster healthy. */
        public boolean clusterOk() {
            return info("info").map(i -> i.contains("cluster_state:ok")).orElse(false);
        }

        /** A key's value read on this node even when it is a replica ({@code READONLY}), empty when absent or unreachable. */
        public Optional<String> readOnlyGet(String key) {
            RedisClient c = RedisClient.create(RedisURI.Builder.redis("127.0.0.1", port).withTimeout(Duration.ofSeconds(2)).build());
            try (StatefulRedisConnection<String, String> conn = c.connect()) {
                conn.sync().readOnly();
                return Optional.ofNullable(conn.sync().get(key));
            } catch (RedisException e) {
                return Optional.empty();
            } finally {
                c.shutdown(Duration.ZERO, Duration.ofSeconds(1));
            }
        }

        /** Whether this node, as a primary, serves the hash slot (from the slot ranges of its CLUSTER NODES line). */
        public boolean servesSlot(int slot) {
            return info("nodes").flatMap(n -> n.lines().filter(l -> l.contains("myself")).findFirst()).map(l -> {
                String[] f = l.split(" ");
                for (int i = 8; i < f.length; i++) {
                    if (f[i].startsWith("[")) {
                        continue; // a slot being migrated
                    }
                    String[] r = f[i].split("-");
                    int lo = Integer.parseInt(r[0]);
                    int hi = r.length > 1 ? Integer.parseInt(r[1]) : lo;
                    if (slot >= lo && slot <= hi) {
                        return true;
                    }
                }
                return false;
            }).orElse(false);
        }

        /** {@code master} or {@code slave}, as this node sees itself now. */
        public Optional<String> role() {
            return info("nodes").flatMap(n -> n.lines().filter(l -> l.contains("myself")).findFirst())
                    .map(l -> l.split(" ")[2].contains("master") ? "master" : "slave");
        }
    }

    private RedisCluster() {
    }

    /** Starts six nodes under {@code dir}, creates the cluster, and waits until every node reports it healthy. */
    public static RedisCluster start(Path dir) {
        RedisCluster cluster = new RedisCluster();
        try {
            for (int i = 0; i < 6; i++) {
                Node n = new Node(Files.createDirectories(dir.resolve("node-" + i)));
                cluster.nodes.add(n);
                n.start();
            }
            List<String> cmd = new ArrayList<>(List.of(PrivateServer.executable("redis-cli", "redis-tools", "/usr/bin/redis-cli"),
                    "--cluster", "create"));
            cluster.nodes.forEach(n -> cmd.add(n.address()));
            cmd.addAll(List.of("--cluster-replicas", "1", "--cluster-yes"));
            Path log = dir.resolve("cluster-create.log");
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                p.destroyForcibly();
                throw new IllegalStateException("redis-cli --cluster create failed:\n" + Files.readString(log));
            }
            cluster.await("all six nodes report cluster_state:ok and know each other", FORMATION,
                    () -> cluster.nodes.stream().allMatch(n -> n.clusterOk()
                            && n.info("info").orElse("").contains("cluster_known_nodes:6")));
            return cluster;
        } catch (IOException e) {
            cluster.close();
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            cluster.close();
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } catch (RuntimeException | Error e) {
            cluster.close();
            throw e;
        }
    }

    /** {@code redis-cluster://} with every node as a seed, as an operator would write {@code DEPUTY_REDIS_URI}. */
    public String uri() {
        return "redis-cluster://" + nodes.stream().map(Node::address).collect(Collectors.joining(","));
    }

    public List<Node> nodes() {
        return List.copyOf(nodes);
    }

    /** The nodes that are primaries now (as they say themselves). */
    public List<Node> primaries() {
        return nodes.stream().filter(n -> n.role().orElse("").equals("master")).toList();
    }

    /** The replica of the given primary, by the primary's node id in the replica's CLUSTER NODES. */
    public Node replicaOf(Node primary) {
        String id = primary.info("myid").orElseThrow(() -> new IllegalStateException(primary.address() + " does not answer"));
        return nodes.stream().filter(n -> n != primary)
                .filter(n -> n.info("nodes").orElse("").lines()
                        .anyMatch(l -> l.contains("myself") && l.split(" ")[3].equals(id)))
                .findFirst().orElseThrow(() -> new IllegalStateException("no replica of " + primary.address()));
    }

    /** Waits for a condition, polling; fails naming it when the bound passes. */
    public void await(String what, Duration bound, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + bound.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("Redis Cluster: not within " + bound.toSeconds() + " s: " + what);
            }
            Thread.sleep(100);
        }
    }

    @Override
    public void close() {
        nodes.forEach(Node::close);
    }
}
