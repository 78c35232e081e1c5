package dev.deputy.broker.keys;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The row MAC: keyed by the master key, one sub-key per table, over an injective encoding of the columns. */
class RowSealTest {
    static final byte[] KEY = new byte[32];
    final RowSeal seal = new RowSeal(KEY);

    @Test
    void verifiesWhatItMacedAndNothingElse() {
        List<Object> row = Arrays.asList("acme.corp-ü", "kid ✓", "ES256", "ACTIVE", "{\"kty\":\"EC\"}", 1L, null, null, null);
        String mac = seal.mac("signing_keys", row);
        assertTrue(mac.startsWith("v1."));
        assertEquals(46, mac.length(), "v1. + 43 base64url characters (32 bytes)");
        assertTrue(seal.verify("signing_keys", mac, row));
        assertFalse(seal.verify("signing_keys", mac, Arrays.asList("acme.corp-ü", "kid ✓", "ES256", "RETIRED", "{\"kty\":\"EC\"}", 1L, null, null, null)));
        assertFalse(seal.verify("agent_credentials", mac, row), "a MAC of one table never verifies in another");
        assertFalse(new RowSeal(key(1)).verify("signing_keys", mac, row), "another master key");
        assertFalse(seal.verify("signing_keys", null, row));
        assertFalse(seal.verify("signing_keys", "not-sealed", row));
        assertFalse(seal.verify("signing_keys", "v1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", row));
    }

    @Test
    void theEncodingIsInjective() {
        // moving bytes between columns, NULL against empty, and an extra empty column all change the MAC
        assertNotEquals(seal.mac("t", List.of("ab", "c")), seal.mac("t", List.of("a", "bc")));
        assertNotEquals(seal.mac("t", Arrays.asList((Object) null)), seal.mac("t", List.of("")));
        assertNotEquals(seal.mac("t", List.of("a")), seal.mac("t", List.of("a", "")));
        assertNotEquals(seal.mac("t", List.of("a|b")), seal.mac("t", List.of("a", "b")));
        assertEquals(seal.mac("t", List.of(5L, true)), seal.mac("t", List.of("5", "true")), "numbers and booleans as text");
    }

    @Test
    void knownAnswer() {
        // computed independently (Python: hmac + hashlib, RFC 5869 HKDF by hand) from the encoding in docs/audit.md
        assertEquals("v1.QbkFS-LSslFvjuWhmMqFm0lRvZMGAZuUcmOl0cEPowo", seal.mac("signing_keys",
                Arrays.asList("demo", "kid-1", "ES256", "ACTIVE", "{}", 1700000000000L, null, null, null)));
        byte[] enc = RowSeal.encode(Arrays.asList("a", null, 7L));
        assertEquals("6465707574792d726f772d7631" + "01" + "00000001" + "61" + "00" + "01" + "00000001" + "37",
                java.util.HexFormat.of().formatHex(enc));
    }

    static byte[] key(int first) {
        byte[] k = new byte[32];
        k[0] = (byte) first;
        return k;
    }
}
