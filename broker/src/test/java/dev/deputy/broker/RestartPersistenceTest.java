package dev.deputy.broker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.deputy.broker.audit.AuditEvent;
import dev.deputy.broker.audit.AuditLog;
import dev.deputy.broker.audit.AuditVerifier;
import dev.deputy.broker.keys.SigningKeys;
import dev.deputy.broker.storage.Database;
import dev.deputy.broker.testing.ConfigFixture;
import dev.deputy.broker.testing.TestBroker;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The embedded default (H2 file + in-process store) keeps keys and rows across a restart on the same data dir. */
class RestartPersistenceTest {
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    @Test
    void secondStartKeepsKeysJwksAndAuditRows() throws Exception {
        Path data = tmp.resolve("data");
        Path config = ConfigFixture.copyOfShipped(Files.createDirectories(tmp.resolve("config")));
        String kid;
        String jwks;
        String masterKey;
        try (TestBroker first = TestBroker.builder(data, config).start()) {
            // embedded default: H2 + in-process, issuer derived from the bound port
            JsonNode health = JSON.readTree(first.get("/health").body());
            assertEquals("UP", health.get("status").asText());
            assertEquals("h2", health.at("/checks/database/backend").asText());
            assertEquals("in-process", health.at("/checks/ephemeral/backend").asText());
            String issuer = JSON.readTree(first.get("/.well-known/oauth-authorization-server/t/demo").body()).get("issuer").asText();
            assertEquals("http://localhost:" + first.port() + "/t/demo", issuer);

            kid = first.bean(SigningKeys.class).keys("demo").activeKid();
            jwks = first.get("/t/demo/jwks.json").body();
            AuditLog log = first.bean(AuditLog.class);
            for (int i = 1; i <= 3; i++) {
                log.append(AuditEvent.of("demo", "test.before-restart", AuditEvent.Outcome.INFO).subject("u" + i, null).build());
            }
            masterKey = Files.readString(data.resolve("master.key"));
        }
        assertTrue(Files.exists(data.resolve("deputy.mv.db")), "H2 file under the data dir");

        try (TestBroker second = TestBroker.builder(data, config).start()) {
            assertEquals(kid, second.bean(SigningKeys.class).keys("demo").activeKid(), "same signing key");
            assertEquals(jwks, second.get("/t/demo/jwks.json").body(), "same JWKS, byte for byte");
            assertEquals(masterKey, Files.readString(data.resolve("master.key")));
            assertEquals(1, second.bean(Database.class).dsl()
                    .fetchOne("select count(*) from signing_keys where tenant_id = 'demo'").get(0, Integer.class),
                    "no second key was minted");
            AuditVerifier.Report before = second.bean(AuditVerifier.class).verify("demo");
            assertTrue(before.ok(), before.message());
            // start-up appends entries of its own (config applied); the three written before the restart stay
            assertEquals(3, second.bean(Database.class).dsl()
                    .fetchOne("select count(*) from audit_log where tenant_id = 'demo' and event_type = 'test.before-restart'")
                    .get(0, Integer.class), "audit rows kept");
            long seq = second.bean(AuditLog.class)
                    .append(AuditEvent.of("demo", "test.after-restart", AuditEvent.Outcome.INFO).build()).seq();
            assertEquals(before.lastSeq() + 1, seq, "the chain continues where it was");
            assertTrue(second.bean(AuditVerifier.class).verify("demo").ok());
            assertEquals("Demo tenant", second.bean(Database.class).dsl()
                    .fetchOne("select display_name from tenants where id = 'demo'").get(0, String.class));
        }
    }
}
