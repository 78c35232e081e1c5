package dev.deputy.broker.agent;

import org.junit.jupiter.api.Test;

import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;
import java.util.Base64;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 14 finding 15: client secrets are hashed with PBKDF2-HMAC-SHA256 at 600,000 iterations (OWASP 2023); values
 * stored with the old 20,000 still verify (the count is part of the value) and are reported as not current.
 */
class ClientSecretsTest {
    static String legacy(String secret, int iterations) throws Exception {
        byte[] salt = "0123456789abcdef".getBytes();
        byte[] h = SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256")
                .generateSecret(new PBEKeySpec(secret.toCharArray(), salt, iterations, 256)).getEncoded();
        Base64.Encoder b = Base64.getUrlEncoder().withoutPadding();
        return "pbkdf2-sha256$" + iterations + "$" + b.encodeToString(salt) + "$" + b.encodeToString(h);
    }

    @Test
    void newHashesUseTheCurrentIterationCount() {
        String secret = "s3cret \u00e9\u6f22 with spaces and a very long tail " + "x".repeat(200);
        String stored = ClientSecrets.hash(secret);
        assertEquals("600000", stored.split("\\$")[1]);
        assertTrue(ClientSecrets.isCurrent(stored));
        assertTrue(ClientSecrets.verify(secret, stored));
        assertTrue(ClientSecrets.verify(secret, stored)); // remembered: the same answer
        assertFalse(ClientSecrets.verify(secret + "x", stored));
        assertFalse(ClientSecrets.verify(secret.trim() + " ", stored));
        assertFalse(ClientSecrets.verify(null, stored));
    }

    @Test
    void oldValuesStillVerifyAndAreNotCurrent() throws Exception {
        String old = legacy("hunter2-config-secret", 20_000);
        assertTrue(ClientSecrets.verify("hunter2-config-secret", old));
        assertFalse(ClientSecrets.verify("hunter2-config-secreT", old));
        assertFalse(ClientSecrets.isCurrent(old));
    }

    @Test
    void malformedOrTamperedValuesNeverVerify() throws Exception {
        String good = legacy("abc", 1_000);
        assertTrue(ClientSecrets.verify("abc", good));
        String[] p = good.split("\\$");
        assertFalse(ClientSecrets.verify("abc", p[0] + "$" + p[1] + "$" + p[2] + "$" + p[3].substring(1) + "A"));
        assertFalse(ClientSecrets.verify("abc", "pbkdf2-sha256$2000000000$" + p[2] + "$" + p[3])); // absurd count
        assertFalse(ClientSecrets.verify("abc", "pbkdf2-sha256$0$" + p[2] + "$" + p[3]));
        assertFalse(ClientSecrets.verify("abc", "bcrypt$10$x$y"));
        assertFalse(ClientSecrets.verify("abc", "pbkdf2-sha256$1000$!!$??"));
        assertFalse(ClientSecrets.isCurrent("pbkdf2-sha256$x$y$z"));
    }
}
