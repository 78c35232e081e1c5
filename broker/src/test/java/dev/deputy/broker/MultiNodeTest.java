package dev.deputy.broker;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.deputy.broker.audit.AuditVerifier;
import dev.deputy.broker.oauth.AgentTestBroker;
import dev.deputy.broker.oauth.AgentTestNodes;
import dev.deputy.broker.testing.ConfigFixture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

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
        Path config = ConfigFixture.copyOfShipped(Files.createDirectories(tmp.resolve("config")));
        // the test-only controllers under /test (TestControllers)
        try (AgentTestNodes nodes = AgentTestNodes.start(2, tmp, config, Map.of(
                "deputy.public-url", "https://deputy.example.test", "deputy.test.controllers", "true"))) {
            AgentTestBroker a = nodes.node(0);
            AgentTestBroker b = nodes.node(1);
            var health = JSON.readTree(a.get("/health").body());
            assertEquals("mariadb", health.at("/checks/database/backend").asText());
            assertEquals("redis", health.at("/checks/ephemeral/backend").asText());

            assertEquals(a.get("/t/demo/jwks.json").body(), b.get("/t/demo/jwks.json").body(), "one key set");
            assertEquals(a.get("/.well-known/oauth-authorization-server/t/demo").body(),
                    b.get("/.well-known/oauth-authorization-server/t/demo").body());

            assertEquals(204, a.post("/test/ephemeral/code-1", "text/plain", "issued-on-a").statusCode());
            assertEquals("issued-on-a", b.get("/test/ephemeral/code-1").body());
            assertTrue(nodes.namespace().keyCount() >= 1, "keys live under the run's prefix");

            // start-up wrote entries of its own (the config applied by each node): count from here
            long head = a.bean(AuditVerifier.class).verify("demo").lastSeq();
            for (int i = 0; i < 10; i++) {
                AgentTestBroker node = i % 2 == 0 ? a : b;
                assertEquals(200, node.post("/test/audit/demo", "text/plain", "u" + i).statusCode());
            }
            AuditVerifier.Report r = a.bean(AuditVerifier.class).verify("demo");
            assertTrue(r.ok(), r.message());
            assertEquals(head + 10, r.lastSeq(), "one gap-free chain written by both nodes");
        }
    }
}
