package dev.deputy.broker.admin;

import dev.deputy.broker.testing.ConfigFixture;
import dev.deputy.broker.testing.TestBroker;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code DEPUTY_ADMIN_BOOTSTRAP_SECRET} (several nodes fed from a Kubernetes Secret): the bootstrap credential takes that
 * secret and no credentials file is written; a short one is refused at start.
 */
class AdminBootstrapSecretTest {
    static final String SECRET = "k8s-secret-with-more-than-32-chars-ünïcode-and spaces";

    @TempDir
    Path tmp;

    @Test
    void theBootstrapCredentialTakesTheGivenSecretAndWritesNoFile() throws Exception {
        Path config = ConfigFixture.copyOfShipped(Files.createDirectories(tmp.resolve("config")));
        try (TestBroker b = TestBroker.builder(tmp.resolve("data"), config).property("deputy.admin.bootstrap-secret", SECRET).start()) {
            var ok = b.post("/admin/token", "application/x-www-form-urlencoded", "grant_type=client_credentials&client_id=admin&client_secret="
                    + java.net.URLEncoder.encode(SECRET, java.nio.charset.StandardCharsets.UTF_8));
            assertEquals(200, ok.statusCode(), ok.body());
            assertTrue(ok.body().contains("\"access_token\":\"dpa_"), ok.body());
            var wrong = b.post("/admin/token", "application/x-www-form-urlencoded",
                    "grant_type=client_credentials&client_id=admin&client_secret=" + "x".repeat(40));
            assertEquals(401, wrong.statusCode(), wrong.body());
            assertFalse(Files.exists(tmp.resolve("data/admin-credentials.json")), "no credentials file");
        }
    }

    @Test
    void aShortSecretIsRefused() throws Exception {
        Path config = ConfigFixture.copyOfShipped(Files.createDirectories(tmp.resolve("config")));
        Exception e = assertThrows(Exception.class, () -> TestBroker.builder(tmp.resolve("data"), config)
                .property("deputy.admin.bootstrap-secret", "short").start().close());
        Throwable c = e;
        while (c.getCause() != null && !(c instanceof IllegalStateException)) {
            c = c.getCause();
        }
        assertEquals("DEPUTY_ADMIN_BOOTSTRAP_SECRET must be at least 32 characters (e.g. from: head -c 32 /dev/urandom | base64)",
                c.getMessage());
    }
}
