package dev.deputy.broker.keys;

import com.nimbusds.jose.jwk.JWK;
import dev.deputy.broker.storage.Database;
import dev.deputy.broker.testing.ConfigFixture;
import dev.deputy.broker.testing.TestBroker;
import org.jooq.Record;
import org.jooq.Result;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Base64;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Private signing keys are sealed at rest with the master key and bound to their row. */
class SealedSigningKeysTest {
    @TempDir
    Path tmp;

    Path config() {
        return ConfigFixture.at(tmp.resolve("config"))
                .tenant("es", "display_name: EC\nsigning_alg: ES256\n")
                .tenant("rs", "display_name: RSA\nsigning_alg: RS256\n")
                .tenant("ed", "display_name: Ed\nsigning_alg: EdDSA\n").root();
    }

    @Test
    void privateColumnHoldsNoKeyMaterialAndOpensOnlyWithTheMasterKey() throws Exception {
        try (TestBroker broker = TestBroker.builder(tmp.resolve("data"), config()).start()) {
            SecretBox box = broker.bean(SecretBox.class);
            Result<Record> rows = broker.bean(Database.class).dsl()
                    .fetch("select tenant_id, kid, public_jwk, private_enc from signing_keys");
            assertEquals(3, rows.size());
            for (Record r : rows) {
                String tenant = r.get(0, String.class);
                String kid = r.get(1, String.class);
                String publicJwk = r.get(2, String.class);
                String sealed = r.get(3, String.class);
                assertTrue(sealed.startsWith("v1."), sealed);
                JWK priv = JWK.parse(box.openString(sealed, StoredKey.aad(tenant, kid)));
                assertTrue(priv.isPrivate());
                String d = priv.toJSONObject().get("d").toString();
                assertFalse(sealed.contains(d), tenant + ": sealed column contains d");
                assertFalse(publicJwk.contains(d), tenant + ": public column contains d");
                assertFalse(sealed.contains("\"d\""));
                assertFalse(JWK.parse(publicJwk).isPrivate());
                // another master key does not open it; neither does the right key for another row
                assertThrows(IllegalStateException.class,
                        () -> new SecretBox(SecretBoxTest.randomKey()).open(sealed, StoredKey.aad(tenant, kid)));
                assertThrows(IllegalStateException.class, () -> box.open(sealed, StoredKey.aad(tenant, kid + "x")));
                assertThrows(IllegalStateException.class, () -> box.open(sealed, StoredKey.aad("other", kid)));
            }
        }
        // the embedded default's master key file: created once, owner-only
        Path keyFile = tmp.resolve("data/master.key");
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(keyFile)));
        assertEquals(32, Base64.getDecoder().decode(Files.readString(keyFile).trim()).length);
    }

    @Test
    void configuredMasterKeyIsUsedAndAWrongOneRefusesToStart() throws Exception {
        byte[] key = SecretBoxTest.randomKey();
        String b64 = Base64.getEncoder().encodeToString(key);
        Path data = tmp.resolve("data2");
        String kid;
        String sealed;
        try (TestBroker broker = TestBroker.builder(data, config()).masterKey(b64).start()) {
            Record r = broker.bean(Database.class).dsl()
                    .fetchOne("select kid, private_enc from signing_keys where tenant_id = 'es'");
            kid = r.get(0, String.class);
            sealed = r.get(1, String.class);
        }
        assertFalse(Files.exists(data.resolve("master.key")), "no key file when DEPUTY_MASTER_KEY is set");
        assertTrue(new SecretBox(key).openString(sealed, StoredKey.aad("es", kid)).contains("\"d\""));

        // same data, another master key: the broker refuses to start rather than mint new keys
        String other = Base64.getEncoder().encodeToString(SecretBoxTest.randomKey());
        RuntimeException e = assertThrows(RuntimeException.class,
                () -> TestBroker.builder(data, config()).masterKey(other).start().close());
        assertTrue(messages(e).contains("wrong master key"), messages(e));

        // a master key that is not 32 bytes of base64 is refused too
        RuntimeException bad = assertThrows(RuntimeException.class,
                () -> TestBroker.builder(tmp.resolve("data3"), config()).masterKey("c2hvcnQ=").start().close());
        assertTrue(messages(bad).contains("32 bytes"), messages(bad));
    }

    static String messages(Throwable t) {
        StringBuilder sb = new StringBuilder();
        for (Throwable c = t; c != null; c = c.getCause()) {
            sb.append(c.getMessage()).append(" | ");
        }
        return sb.toString();
    }
}
