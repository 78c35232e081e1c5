package dev.deputy.broker.audit;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * Sealing writes v2 details in RFC 8785 form directly ({@link AuditEntry#jcsDirect}) instead of writing JSON and
 * running the canonicalizer library over it: the text must be the library's, character for character, for everything
 * the audit schema leaves in details — and the direct writer must step aside (null) for what it does not cover, so
 * the seal takes the library path there.
 */
class AuditDetailsJcsTest {
    private static String library(Map<String, Object> details) {
        return AuditEntry.jcs(AuditEntry.canonicalJson(details));
    }

    private static void same(Map<String, Object> details) {
        String direct = AuditEntry.jcsDirect(details);
        assertNotNull(direct, details.toString());
        assertEquals(library(details), direct);
    }

    @Test
    void realEntriesAreWrittenAsTheLibraryWritesThem() {
        // token.issued as the client_credentials grant writes it (sorted by AuditSchema.sanitize)
        Map<String, Object> issued = new TreeMap<>(Map.of("grant_type", "client_credentials",
                "jti", "0c6f1c9e-5d8c-4b0a-9a57-3f3f0f7f2b11", "auth_method", "private_key_jwt", "cert_bound", false,
                "exp", 1_765_000_123L));
        same(issued);
        // token.exchanged with a rule id, a null member and nested values
        Map<String, Object> exchanged = new LinkedHashMap<>();
        exchanged.put("rule", "payments.settlement.reconciler/for-everyone");
        exchanged.put("reason", "Zoë Ångström delegated to jonathan.christopher.williams");
        exchanged.put("cnf", null);
        exchanged.put("subject_token_type", "urn:ietf:params:oauth:token-type:access_token");
        exchanged.put("nested", Map.of("scopes", List.of("files:read", "files:list"), "depth", 2, "ok", true));
        same(exchanged);
        same(Map.of("empty", Map.of(), "none", List.of()));
    }

    @Test
    void everyEscapeAndEveryKeyOrderMatchTheLibrary() {
        StringBuilder controls = new StringBuilder();
        for (char c = 0; c < 0x20; c++) {
            controls.append(c);
        }
        Map<String, Object> d = new HashMap<>();
        d.put("controls", controls.toString());
        d.put("quotes", "\"q\" \\ / \u007f \u0080 \u2028 \u2029 é 日本 🔐");
        // UTF-16 order differs from code-point order here: RFC 8785 §3.2.3 sorts by UTF-16 code units
        d.put("\uFB01", 1);
        d.put("😀", 2);
        d.put("A", Map.of("é", 1, "e", 2, "E", 3));
        d.put("limits", Arrays.asList(1L << 53, -(1L << 53), 0, -1, Integer.MAX_VALUE, (short) 7, (byte) -3, null));
        same(d);
    }

    @Test
    void randomDetailsMatchTheLibrary() {
        Random r = new Random(14);
        String alphabet = "aZ09 _-.:/\"\\\n\t\u0001\u001fé日🔐\uFB01\u2028";
        for (int i = 0; i < 500; i++) {
            same(randomMap(r, alphabet, 0));
        }
    }

    private static Map<String, Object> randomMap(Random r, String alphabet, int depth) {
        Map<String, Object> m = new LinkedHashMap<>();
        int n = r.nextInt(6);
        for (int i = 0; i < n; i++) {
            m.put(randomString(r, alphabet), randomValue(r, alphabet, depth));
        }
        return m;
    }

    private static Object randomValue(Random r, String alphabet, int depth) {
        switch (r.nextInt(depth < 3 ? 7 : 5)) {
            case 0:
                return randomString(r, alphabet);
            case 1:
                return r.nextBoolean();
            case 2:
                return r.nextLong(-(1L << 53), (1L << 53) + 1);
            case 3:
                return r.nextInt();
            case 4:
                return null;
            case 5:
                return randomMap(r, alphabet, depth + 1);
            default:
                List<Object> l = new ArrayList<>();
                for (int i = r.nextInt(4); i > 0; i--) {
                    l.add(randomValue(r, alphabet, depth + 1));
                }
                return l;
        }
    }

    private static String randomString(Random r, String alphabet) {
        StringBuilder b = new StringBuilder();
        for (int i = r.nextInt(12); i > 0; i--) {
            int at = r.nextInt(alphabet.length());
            char c = alphabet.charAt(at);
            if (Character.isHighSurrogate(c) && at + 1 < alphabet.length()) {
                b.append(c).append(alphabet.charAt(at + 1));
            } else if (!Character.isLowSurrogate(c)) {
                b.append(c);
            }
        }
        return b.toString();
    }

    @Test
    void whatItDoesNotCoverGoesToTheLibrary() {
        assertNull(AuditEntry.jcsDirect(Map.of("ratio", 0.5)));
        assertNull(AuditEntry.jcsDirect(Map.of("big", (1L << 53) + 1)));
        assertNull(AuditEntry.jcsDirect(Map.of("when", java.time.Instant.EPOCH)));
        assertNull(AuditEntry.jcsDirect(Map.of("nested", Map.of(1, "integer key"))));
        // and the seal still gives the library's text there
        AuditEvent e = AuditEvent.of("demo", EventTypes.TOKEN_ISSUED, AuditEvent.Outcome.SUCCESS).detail("exp", 0.5).build();
        AuditEntry sealed = AuditSeal.seal(e, 1, 1_765_000_000_000L, AuditEntry.GENESIS);
        if (sealed.details() != null) {
            assertEquals(AuditEntry.jcs(AuditEntry.canonicalJson(e.details())), sealed.details());
        }
        assertEquals(sealed.hash(), sealed.computeHash());
    }

    @Test
    void aSealedEntryHashesAsBefore() {
        AuditEvent e = AuditEvent.of("demo", EventTypes.TOKEN_ISSUED, AuditEvent.Outcome.SUCCESS)
                .subject("payments.settlement.reconciler", null).agent("payments.settlement.reconciler")
                .client("payments.settlement.reconciler").resource("https://files.example/api").scopes("files:read")
                .detail("grant_type", "client_credentials").detail("jti", "j-1").detail("auth_method", "private_key_jwt")
                .detail("cert_bound", false).detail("exp", 1_765_000_123L).build();
        AuditEntry sealed = AuditSeal.seal(e, 7, 1_765_000_000_000L, AuditEntry.GENESIS);
        assertEquals(library(e.details()), sealed.details());
        assertEquals(sealed.hash(), sealed.computeHash());
        assertEquals(true, sealed.hashMatches());
    }
}
