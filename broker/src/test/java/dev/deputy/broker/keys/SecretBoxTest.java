package dev.deputy.broker.keys;

import org.junit.jupiter.api.Test;

import java.security.SecureRandom;
import java.util.Base64;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** AES-256-GCM sealing with associated data that binds a secret to its row. */
class SecretBoxTest {
    static byte[] randomKey() {
        byte[] k = new byte[32];
        new SecureRandom().nextBytes(k);
        return k;
    }

    final SecretBox box = new SecretBox(randomKey());

    @Test
    void roundTrip() {
        String sealed = box.sealString("the secret", "row|a");
        assertTrue(sealed.startsWith("v1."));
        assertEquals("the secret", box.openString(sealed, "row|a"));
    }

    @Test
    void freshNoncePerSeal() {
        assertNotEquals(box.sealString("same", "aad"), box.sealString("same", "aad"));
    }

    @Test
    void aadBindsTheSecretToItsRow() {
        String sealed = box.sealString("the secret", StoredKey.aad("t1", "kid-1"));
        assertThrows(IllegalStateException.class, () -> box.open(sealed, StoredKey.aad("t1", "kid-2")));
        assertThrows(IllegalStateException.class, () -> box.open(sealed, StoredKey.aad("t2", "kid-1")));
        assertThrows(IllegalStateException.class, () -> box.open(sealed, ""));
    }

    @Test
    void anotherMasterKeyCannotOpen() {
        String sealed = box.sealString("the secret", "aad");
        assertThrows(IllegalStateException.class, () -> new SecretBox(randomKey()).open(sealed, "aad"));
    }

    @Test
    void everyFlippedByteIsDetected() {
        String sealed = box.sealString("0123456789", "aad");
        byte[] raw = Base64.getUrlDecoder().decode(sealed.substring(3));
        for (int i = 0; i < raw.length; i++) {
            byte[] copy = raw.clone();
            copy[i] ^= 0x01;
            String tampered = "v1." + Base64.getUrlEncoder().withoutPadding().encodeToString(copy);
            assertThrows(IllegalStateException.class, () -> box.open(tampered, "aad"), "byte " + i);
        }
    }

    @Test
    void garbageIsRejected() {
        assertThrows(IllegalArgumentException.class, () -> box.open("plain text", "aad"));
        assertThrows(IllegalArgumentException.class, () -> box.open(null, "aad"));
        assertThrows(IllegalStateException.class, () -> box.open("v1.!!!", "aad"));
        assertThrows(IllegalStateException.class, () -> box.open("v1.AAAA", "aad"));
        assertThrows(IllegalArgumentException.class, () -> new SecretBox(new byte[16]));
    }
}
