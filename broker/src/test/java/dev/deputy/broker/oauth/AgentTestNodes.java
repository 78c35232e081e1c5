package dev.deputy.broker.oauth;

import dev.deputy.broker.testing.MariaDbDatabase;
import dev.deputy.broker.testing.RedisNamespace;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * Several broker nodes ({@link AgentTestBroker}) as a production deployment runs them: one database of its own on the
 * test MariaDB ({@link MariaDbDatabase}), one key prefix of its own on the test Redis ({@link RedisNamespace}), one
 * random master key, one config tree, public URL {@value #PUBLIC_URL}, and the properties given; node {@code i} keeps
 * its data in {@code <dir>/a}, {@code <dir>/b}, … (the bootstrap admin credential of node A:
 * {@code <dir>/a/admin-credentials.json}). {@link #close()} stops the nodes, then drops the database and the prefix's
 * keys; a node that fails to start closes what had started.
 */
public final class AgentTestNodes implements AutoCloseable {
    public static final String PUBLIC_URL = "http://deputy.test";

    private final MariaDbDatabase db;
    private final RedisNamespace ns;
    private final List<AgentTestBroker> nodes = new ArrayList<>();

    private AgentTestNodes(MariaDbDatabase db, RedisNamespace ns) {
        this.db = db;
        this.ns = ns;
    }

    /** {@code n} nodes on {@code config}, data under {@code dir}. */
    public static AgentTestNodes start(int n, Path dir, Path config) {
        return start(n, dir, config, Map.of());
    }

    /** {@code n} nodes on {@code config}, data under {@code dir}, each with {@code properties} on top of the shared ones. */
    public static AgentTestNodes start(int n, Path dir, Path config, Map<String, Object> properties) {
        MariaDbDatabase db = MariaDbDatabase.create();
        RedisNamespace ns;
        try {
            ns = RedisNamespace.create();
        } catch (RuntimeException e) {
            db.close();
            throw e;
        }
        AgentTestNodes cluster = new AgentTestNodes(db, ns);
        try {
            String masterKey = masterKey();
            for (int i = 0; i < n; i++) {
                Path data = dir.resolve(String.valueOf((char) ('a' + i)));
                AgentTestBroker.Builder b = AgentTestBroker.builder(data).configDir(config).dataDir(data)
                        .mysql(db.jdbcUrl()).property("deputy.mysql.user", db.user())
                        .property("deputy.mysql.password", db.password())
                        .redis(ns.uri(), ns.prefix()).masterKey(masterKey)
                        .property("deputy.public-url", PUBLIC_URL);
                properties.forEach(b::property);
                cluster.nodes.add(b.start());
            }
            return cluster;
        } catch (RuntimeException | Error e) {
            cluster.close();
            throw e;
        }
    }

    /**
     * A config tree at {@code <dir>/config}: broker.yml ({@link AgentTestBroker#BROKER_YML}) and tenant {@code demo}'s tenant.yml with
     * {@code tenantYml}. Returns its root.
     */
    public static Path config(Path dir, String tenantYml) {
        Path config = dir.resolve("config");
        try {
            Files.createDirectories(config.resolve("tenants/demo"));
            Files.writeString(config.resolve("broker.yml"), AgentTestBroker.BROKER_YML);
            Files.writeString(config.resolve("tenants/demo/tenant.yml"), tenantYml);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return config;
    }

    /** A random 256-bit master key, base64. */
    public static String masterKey() {
        byte[] key = new byte[32];
        new SecureRandom().nextBytes(key);
        return Base64.getEncoder().encodeToString(key);
    }

    /** Node {@code i} (0: A). */
    public AgentTestBroker node(int i) {
        return nodes.get(i);
    }

    public List<AgentTestBroker> nodes() {
        return List.copyOf(nodes);
    }

    /** The shared Redis prefix, for assertions on raw keys. */
    public RedisNamespace namespace() {
        return ns;
    }

    public MariaDbDatabase database() {
        return db;
    }

    @Override
    public void close() {
        RuntimeException failed = null;
        for (AgentTestBroker node : nodes.reversed()) {
            try {
                node.close();
            } catch (RuntimeException e) {
                failed = failed == null ? e : failed;
            }
        }
        try {
            ns.close();
        } finally {
            db.close();
        }
        if (failed != null) {
            throw failed;
        }
    }
}
