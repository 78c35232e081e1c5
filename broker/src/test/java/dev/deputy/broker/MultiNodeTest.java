package dev.deputy.broker;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.deputy.broker.audit.AuditVerifier;
import dev.deputy.broker.testing.ConfigFixture;
import dev.deputy.broker.testing.MariaDbDatabase;
import dev.deputy.broker.testing.RedisNamespace;
import dev.deputy.broker.testing.TestBroker;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Base64;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The production wiring on the shared MariaDB and Redis: two broker nodes with one master key serve the
 * same keys and issuer, share ephemeral state, and write one audit chain between them.
 */
class MultiNodeTest {
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    @Test
    void twoNodesShareKeysEphemeralStateAndTheAuditChain() throws Exception {
        byte[] key = new byte[32];
        new SecureRandom().nextBytes(key);
        String masterKey = Base64.getEncoder().encodeToString(key);
        Path config = ConfigFixture.copyOfShipped(Files.createDirectories(tmp.resolve("config")));
        try (MariaDbDatabase db = MariaDbDatabase.create();
             RedisNamespace ns = RedisNamespace.create();
             TestBroker a = TestBroker.builder(tmp.resolve("a"), config).mysql(db).redis(ns).masterKey(masterKey)
                     .publicUrl("https://deputy.example.test").testControllers().start();
             TestBroker b = TestBroker.builder(tmp.resolve("b"), config).mysql(db).redis(ns).masterKey(masterKey)
                     .publicUrl("https://deputy.example.test").testControllers().start()) {
            var health = JSON.readTree(a.get("/health").body());
            assertEquals("mariadb", health.at("/checks/database/backend").asText());
            assertEquals("redis", health.at("/checks/ephemeral/backend").asText());

            assertEquals(a.get("/t/demo/jwks.json").body(), b.get("/t/demo/jwks.json").body(), "one key set");
            assertEquals(a.get("/.well-known/oauth-authorization-server/t/demo").body(),
                    b.get("/.well-known/oauth-authorization-server/t/demo").body());

            assertEquals(204, a.post("/test/ephemeral/code-1", "text/plain", "issued-on-a").statusCode());
            assertEquals("issued-on-a", b.get("/test/ephemeral/code-1").body());
            assertTrue(ns.keyCount() >= 1, "keys live under the run's prefix");

            // start-up wrote entries of its own (the config applied by each node): count from here
            long head = a.bean(AuditVerifier.class).verify("demo").lastSeq();
            for (int i = 0; i < 10; i++) {
                TestBroker node = i % 2 == 0 ? a : b;
                assertEquals(200, node.post("/test/audit/demo", "text/plain", "u" + i).statusCode());
            }
            AuditVerifier.Report r = a.bean(AuditVerifier.class).verify("demo");
            assertTrue(r.ok(), r.message());
            assertEquals(head + 10, r.lastSeq(), "one gap-free chain written by both nodes");
        }
    }
}
