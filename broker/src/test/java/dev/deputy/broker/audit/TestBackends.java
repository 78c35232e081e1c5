package dev.deputy.broker.audit;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.deputy.broker.config.DeputySettings;
import dev.deputy.broker.storage.Database;
import dev.deputy.broker.storage.JooqAuditStore;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/** H2 (embedded default) and a fresh MariaDB database per test class (127.0.0.1:3306, root, no password). */
final class TestBackends {
    static final String MARIADB = "jdbc:mysql://127.0.0.1:3306/";
    final String name;
    final Database db;
    final JooqAuditStore store;
    final String mariaDbName;

    private TestBackends(String name, Database db, String mariaDbName) {
        this.name = name;
        this.db = db;
        this.store = new JooqAuditStore(db);
        this.mariaDbName = mariaDbName;
    }

    static TestBackends h2() throws Exception {
        Path dir = Files.createTempDirectory("deputy-audit-h2");
        return new TestBackends("h2", new Database(settings(dir, Optional.empty())), null);
    }

    static TestBackends mariadb() throws Exception {
        String dbName = "deputy_t_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
        try (Connection c = DriverManager.getConnection(MARIADB, "root", ""); Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE " + dbName);
        }
        Path dir = Files.createTempDirectory("deputy-audit-my");
        return new TestBackends("mariadb", new Database(settings(dir, Optional.of(new DeputySettings.MySql(
                MARIADB + dbName + "?rewriteBatchedStatements=true", "root", "")))), dbName);
    }

    static DeputySettings settings(Path dir, Optional<DeputySettings.MySql> my) {
        return new DeputySettings(dir, dir, Optional.empty(), Optional.empty(), my, Optional.empty());
    }

    static List<TestBackends> both() throws Exception {
        List<TestBackends> l = new ArrayList<>();
        l.add(h2());
        l.add(mariadb());
        return l;
    }

    /** Not AutoCloseable: JUnit closes AutoCloseable parameters after each invocation. */
    public void shutdown() throws Exception {
        var m = Database.class.getDeclaredMethod("close");
        m.setAccessible(true);
        m.invoke(db);
        if (mariaDbName != null && Boolean.getBoolean("deputy.bench.keep")) {
            System.out.println("BENCH kept database " + mariaDbName);
        } else if (mariaDbName != null) {
            try (Connection c = DriverManager.getConnection(MARIADB, "root", ""); Statement s = c.createStatement()) {
                s.execute("DROP DATABASE IF EXISTS " + mariaDbName);
            } catch (SQLException e) {
                System.err.println("could not drop " + mariaDbName + ": " + e.getMessage());
            }
        }
    }

    @Override
    public String toString() {
        return name;
    }

    static String tenant() {
        return "t" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
    }

    /** A checkpoint signer with in-memory EC keys; rotate() makes a new active key and retires the old one. */
    static final class MemorySigner implements CheckpointSigner {
        final Map<String, ECKey> published = new LinkedHashMap<>();
        ECKey active;

        MemorySigner() {
            rotate();
        }

        void rotate() {
            try {
                active = new ECKeyGenerator(Curve.P_256).keyID(UUID.randomUUID().toString()).algorithm(JWSAlgorithm.ES256).generate();
            } catch (JOSEException e) {
                throw new IllegalStateException(e);
            }
            published.put(active.getKeyID(), active);
        }

        void unpublish(String kid) {
            published.remove(kid);
        }

        @Override
        public boolean canSign(String tenantId) {
            return true;
        }

        @Override
        public Signed sign(String tenantId, JWTClaimsSet claims) {
            try {
                SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES256).type(CheckpointVerifier.TYP)
                        .keyID(active.getKeyID()).build(), claims);
                jwt.sign(new ECDSASigner(active));
                return new Signed(jwt.serialize(), active.getKeyID(), active.toPublicJWK().toJSONString());
            } catch (JOSEException e) {
                throw new IllegalStateException(e);
            }
        }

        @Override
        public String activeKid(String tenantId) {
            return active.getKeyID();
        }

        @Override
        public Map<String, JWK> published(String tenantId) {
            Map<String, JWK> m = new LinkedHashMap<>();
            published.forEach((k, v) -> m.put(k, v.toPublicJWK()));
            return m;
        }
    }
}
