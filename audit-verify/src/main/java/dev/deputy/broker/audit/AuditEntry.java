package dev.deputy.broker.audit;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import org.erdtman.jcs.JsonCanonicalizer;

import java.io.IOException;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * A sealed audit entry: its place in the tenant's chain ({@code seq}), the hash of the entry before it,
 * its own hash, and the version of the canonical form that hash was computed over ({@code canon}).
 *
 * <ul>
 *   <li><b>v1</b> (entries written before V90): hash = SHA-256(prev_hash "|" a JSON array of the fields in a
 *       fixed order, written by Jackson with non-ASCII escaped as upper-case backslash-u escapes; {@code details} is
 *       a JSON <i>string</i> holding Jackson's key-sorted JSON). Kept only so existing chains still verify.</li>
 *   <li><b>v2</b> (every new entry): hash = SHA-256(the RFC 8785 JSON Canonicalization Scheme form of one JSON
 *       object holding {@code canon: 2}, the fields, {@code details} as a JSON <i>object</i> and
 *       {@code prev_hash}), computed with the java-json-canonicalization library. docs/audit.md pins it down
 *       field by field; scripts/verify-audit.py is an independent implementation of that page.</li>
 * </ul>
 * The sequence number itself is not hashed (in either version): position in the chain is what the links
 * prove, which lets the verifier tell a reordered entry from an edited one.
 */
public record AuditEntry(String tenantId, long seq, long atMs, String type, String outcome, String subject,
                         String subjectIss, String actor, String agentId, String clientId, String resource,
                         String scopes, String correlationId, String requestId, String sourceIp, String details,
                         String prevHash, String hash, int canon) {

    public static final String GENESIS = "0".repeat(64);
    /** The first canonical form (Jackson array, details as a string); entries without a recorded version. */
    public static final int CANON_V1 = 1;
    /** RFC 8785 (JCS) over one object; every entry sealed now. */
    public static final int CANON_V2 = 2;
    public static final int CANON_CURRENT = CANON_V2;

    /** An entry in the first canonical form (rows and export lines that record no version). */
    public AuditEntry(String tenantId, long seq, long atMs, String type, String outcome, String subject,
                      String subjectIss, String actor, String agentId, String clientId, String resource,
                      String scopes, String correlationId, String requestId, String sourceIp, String details,
                      String prevHash, String hash) {
        this(tenantId, seq, atMs, type, outcome, subject, subjectIss, actor, agentId, clientId, resource, scopes,
                correlationId, requestId, sourceIp, details, prevHash, hash, CANON_V1);
    }

    /** A chain position: the seq of the last entry and its hash. */
    public record Head(long seq, String hash) {
    }
    private static final ObjectMapper CANONICAL = new ObjectMapper()
            .configure(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS, true)
            .configure(JsonGenerator.Feature.ESCAPE_NON_ASCII, true);

    /** This entry with its hash set (sealing lives in the broker: {@code AuditSeal}). */
    AuditEntry withHash(String h) {
        return new AuditEntry(tenantId, seq, atMs, type, outcome, subject, subjectIss, actor, agentId, clientId, resource,
                scopes, correlationId, requestId, sourceIp, details, prevHash, h, canon);
    }

    /**
     * The hash this entry should have given its content, its recorded predecessor and its canonical-form
     * version; {@code "invalid"} (which no stored hash equals) when the content cannot be put in that form
     * (details that are not a JSON object, an unknown version).
     */
    public String computeHash() {
        return switch (canon) {
            case CANON_V1 -> sha256Hex(prevHash + "|" + canonical());
            case CANON_V2 -> {
                String h = hashV2(false);
                yield h == null ? INVALID : h;
            }
            default -> INVALID;
        };
    }

    /**
     * Whether the stored hash is the one this entry's content gives ({@code hash().equals(computeHash())}, the same
     * verdict). For a v2 entry the stored details are tried as they are first: an entry is sealed with its details
     * already in RFC 8785 form, so an untouched entry matches without running the canonicalizer over them again
     * (the costly part of re-verifying a segment before each checkpoint). Details that differ from what was sealed
     * cannot match that way (SHA-256), and take the full path, where an equivalent re-encoding still verifies.
     */
    public boolean hashMatches() {
        if (hash == null) {
            return false;
        }
        if (canon == CANON_V2 && details != null && oneJsonObject(details)) {
            if (hash.equals(hashV2(true))) {
                return true;
            }
        }
        return hash.equals(computeHash());
    }

    /**
     * Whether {@code s} is one JSON object and nothing else by its brackets: it opens with a brace, and the bracket
     * that closes it (strings and their escapes skipped) is its last character. Written raw into the hash input, such
     * details occupy exactly the span of the details value, so a byte-equal input means equal members (details
     * that could swallow the members after them never take the shortcut).
     */
    static boolean oneJsonObject(String s) {
        int n = s.length();
        if (n < 2 || s.charAt(0) != '{') {
            return false;
        }
        int depth = 0;
        boolean inString = false;
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (inString) {
                if (c == '\\') {
                    i++;
                } else if (c == '"') {
                    inString = false;
                }
            } else if (c == '"') {
                inString = true;
            } else if (c == '{' || c == '[') {
                depth++;
            } else if (c == '}' || c == ']') {
                if (--depth == 0) {
                    return i == n - 1;
                }
            }
        }
        return false;
    }

    private static final String INVALID = "invalid";

    /**
     * The v2 hash input: the RFC 8785 canonical form (UTF-8) of
     * {@code {"canon":2,"tenant","time","type","outcome","subject","subject_iss","actor","agent_id","client_id",
     * "resource","scopes","correlation_id","request_id","source_ip","details","prev_hash"}}, every member
     * present (JSON null when unset), {@code details} a JSON object or null. Null when the stored details are not
     * a JSON object.
     *
     * <p>The members are fixed, so they are written in their RFC 8785 order (§3.2.3, names sorted by UTF-16 code
     * units) with RFC 8785 string escapes (§3.2.2.2: only {@code "}, {@code \\} and U+0000..U+001F, short forms
     * where JSON has them, else lower-case {@code \\u00xx}; everything else as itself); {@code details}, the only
     * open-ended part, goes through the canonicalizer library. This is 4-5x cheaper than canonicalizing the whole
     * text again (docs/benchmarks.md); {@code AuditEntryCanonicalTest} checks it byte for byte against the library
     * run over the whole object.
     */
    public byte[] canonicalV2() {
        return canonicalV2(false);
    }

    /** @param detailsCanonical the stored details are known to be in RFC 8785 form already (just sealed) */
    byte[] canonicalV2(boolean detailsCanonical) {
        String d = detailsForV2(detailsCanonical);
        if (d == NOT_V2) {
            return null;
        }
        StringBuilder b = new StringBuilder(320 + (d == null ? 0 : d.length()) + len(actor) + len(scopes)
                + len(subject) + len(subjectIss) + len(clientId) + len(resource));
        writeCanonicalV2(b, d);
        // a lone surrogate becomes '?' here, as it did through the Jackson writer's String
        return b.toString().getBytes(StandardCharsets.UTF_8);
    }

    /**
     * The v2 hash ({@code sha256Hex(canonicalV2(detailsCanonical))}, the same hex), or null where {@code canonicalV2}
     * is null. On a platform thread (the audit writer, the checkpoint's re-verification) the hash input is written
     * into that thread's scratch buffers and digested from there, so an entry sealed or re-verified allocates its hex
     * and little else, instead of the text three times over (builder, String, UTF-8 bytes).
     */
    String hashV2(boolean detailsCanonical) {
        String d = detailsForV2(detailsCanonical);
        if (d == NOT_V2) {
            return null;
        }
        Thread t = Thread.currentThread();
        if (t.isVirtual()) {
            // a virtual thread's thread-local would be made (and dropped) per request: the plain way
            StringBuilder b = new StringBuilder(320 + (d == null ? 0 : d.length()));
            writeCanonicalV2(b, d);
            return sha256Hex(b.toString().getBytes(StandardCharsets.UTF_8));
        }
        Scratch sc = SCRATCH.get();
        StringBuilder b = sc.text;
        b.setLength(0);
        writeCanonicalV2(b, d);
        int n = sc.utf8(b);
        MessageDigest md = SHA256.get();
        md.update(sc.bytes, 0, n);
        String hex = HEX.formatHex(md.digest());
        if (b.capacity() > Scratch.KEEP) {
            sc.shrink(); // an entry with huge details: do not hold its buffers for the thread's life
        }
        return hex;
    }

    /**
     * The details as written into the v2 hash input: as stored when known canonical, else through the canonicalizer
     * library; {@link #NOT_V2} (compared by identity) when they are not one JSON object.
     */
    private String detailsForV2(boolean detailsCanonical) {
        String d = details;
        if (d != null) {
            if (!d.stripLeading().startsWith("{")) {
                return NOT_V2;
            }
            if (!detailsCanonical) {
                try {
                    d = new JsonCanonicalizer(d).getEncodedString();
                } catch (IOException | RuntimeException e) {
                    return NOT_V2; // not JSON (an edited details column): no hash matches
                }
            }
        }
        return d;
    }

    private void writeCanonicalV2(StringBuilder b, String d) {
        // RFC 8785 §3.2.3 order of the fixed member names, written straight into one buffer and encoded once (no JSON
        // generator: this runs for every entry sealed and again for every entry a checkpoint re-verifies);
        // AuditEntryCanonicalTest checks the bytes against the library run over the whole object
        b.append("{\"actor\":");
        jcsString(b, actor);
        b.append(",\"agent_id\":");
        jcsString(b, agentId);
        b.append(",\"canon\":").append(CANON_V2);
        b.append(",\"client_id\":");
        jcsString(b, clientId);
        b.append(",\"correlation_id\":");
        jcsString(b, correlationId);
        b.append(",\"details\":").append(d == null ? "null" : d);
        b.append(",\"outcome\":");
        jcsString(b, outcome);
        b.append(",\"prev_hash\":");
        jcsString(b, prevHash);
        b.append(",\"request_id\":");
        jcsString(b, requestId);
        b.append(",\"resource\":");
        jcsString(b, resource);
        b.append(",\"scopes\":");
        jcsString(b, scopes);
        b.append(",\"source_ip\":");
        jcsString(b, sourceIp);
        b.append(",\"subject\":");
        jcsString(b, subject);
        b.append(",\"subject_iss\":");
        jcsString(b, subjectIss);
        b.append(",\"tenant\":");
        jcsString(b, tenantId);
        b.append(",\"time\":").append(atMs); // an integer below 2^53: RFC 8785 writes it as its digits
        b.append(",\"type\":");
        jcsString(b, type);
        b.append('}');
    }

    /** A platform thread's buffers for {@link #hashV2}: the hash input as text, then as UTF-8. */
    private static final class Scratch {
        /** Buffers grown past this (huge details) are dropped after use. */
        static final int KEEP = 16 * 1024;
        StringBuilder text = new StringBuilder(1024);
        byte[] bytes = new byte[3 * 1024];

        /**
         * {@code b} in UTF-8 into {@link #bytes}; returns the length. The bytes of {@code b.toString().getBytes(UTF_8)}:
         * a surrogate pair is one 4-byte sequence, a lone surrogate is {@code '?'} (the JDK's replacement).
         */
        int utf8(StringBuilder b) {
            int n = b.length();
            if (bytes.length < 3 * n) {
                bytes = new byte[3 * n];
            }
            byte[] out = bytes;
            int j = 0;
            for (int i = 0; i < n; i++) {
                char c = b.charAt(i);
                if (c < 0x80) {
                    out[j++] = (byte) c;
                } else if (c < 0x800) {
                    out[j++] = (byte) (0xC0 | (c >> 6));
                    out[j++] = (byte) (0x80 | (c & 0x3F));
                } else if (Character.isSurrogate(c)) {
                    char next = i + 1 < n ? b.charAt(i + 1) : 0;
                    if (Character.isHighSurrogate(c) && Character.isLowSurrogate(next)) {
                        int cp = Character.toCodePoint(c, next);
                        i++;
                        out[j++] = (byte) (0xF0 | (cp >> 18));
                        out[j++] = (byte) (0x80 | ((cp >> 12) & 0x3F));
                        out[j++] = (byte) (0x80 | ((cp >> 6) & 0x3F));
                        out[j++] = (byte) (0x80 | (cp & 0x3F));
                    } else {
                        out[j++] = '?';
                    }
                } else {
                    out[j++] = (byte) (0xE0 | (c >> 12));
                    out[j++] = (byte) (0x80 | ((c >> 6) & 0x3F));
                    out[j++] = (byte) (0x80 | (c & 0x3F));
                }
            }
            return j;
        }

        void shrink() {
            text = new StringBuilder(1024);
            bytes = new byte[3 * 1024];
        }
    }

    /** {@link #detailsForV2}'s answer for details that have no v2 form (a distinct instance: compared by identity). */
    @SuppressWarnings("StringOperationCanBeSimplified")
    private static final String NOT_V2 = new String("no v2 form");

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private static int len(String s) {
        return s == null ? 0 : s.length();
    }

    /**
     * A JSON string (or {@code null}) with RFC 8785 §3.2.2.2 escapes: quotation mark and reverse solidus escaped,
     * U+0000..U+001F in their short forms where JSON has one (b, t, n, f, r), else as lower-case six-character
     * escapes; every other character as itself.
     */
    static void jcsString(StringBuilder b, String s) {
        if (s == null) {
            b.append("null");
            return;
        }
        b.append('"');
        int from = 0;
        int n = s.length();
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (c >= 0x20 && c != '"' && c != '\\') {
                continue;
            }
            b.append(s, from, i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case 0x08 -> b.append("\\b");
                case 0x09 -> b.append("\\t");
                case 0x0A -> b.append("\\n");
                case 0x0C -> b.append("\\f");
                case 0x0D -> b.append("\\r");
                default -> b.append("\\u00").append(HEX_DIGITS[c >> 4]).append(HEX_DIGITS[c & 0xf]);
            }
            from = i + 1;
        }
        b.append(s, from, n).append('"');
    }

    private static final char[] HEX_DIGITS = "0123456789abcdef".toCharArray();

    /** 2^53: integers of at most this magnitude are written by RFC 8785 (ECMAScript) as their digits. */
    private static final long MAX_EXACT = 1L << 53;

    /**
     * RFC 8785 form of sealed details, written directly: the same text as {@code jcs(canonicalJson(details))}
     * without writing the JSON once and parsing it back (the canonicalizer library's parse was most of the v2 seal's
     * cost on the audit writer; issue 14). Covers what {@code AuditSchema} leaves in details — strings, booleans,
     * integers up to 2^53, nulls, maps with string keys (members sorted by UTF-16 code units, RFC 8785 §3.2.3: the
     * order of {@link String#compareTo}) and lists; returns null for anything else (a fractional or larger number,
     * another type), which the caller canonicalizes the general way. {@code AuditDetailsJcsTest} checks it against
     * the library.
     */
    static String jcsDirect(Map<String, ?> details) {
        StringBuilder b = new StringBuilder(256);
        try {
            return writeJcs(b, details, 0) ? b.toString() : null;
        } catch (RuntimeException e) {
            return null;
        }
    }

    private static boolean writeJcs(StringBuilder b, Object v, int depth) {
        if (depth > 64) {
            return false;
        }
        if (v == null) {
            b.append("null");
        } else if (v instanceof String s) {
            jcsString(b, s);
        } else if (v instanceof Boolean bool) {
            b.append(bool.booleanValue());
        } else if (v instanceof Long || v instanceof Integer || v instanceof Short || v instanceof Byte) {
            long n = ((Number) v).longValue();
            if (n > MAX_EXACT || n < -MAX_EXACT) {
                return false;
            }
            b.append(n);
        } else if (v instanceof Map<?, ?> m) {
            // a map sorted by its keys' natural order already (AuditSchema hands over TreeMaps) is in the right order
            // when its keys are strings (String.compareTo compares UTF-16 code units); any other map is sorted here
            Map<?, ?> sorted = m;
            if (!(m instanceof java.util.SortedMap<?, ?> sm && sm.comparator() == null)) {
                java.util.TreeMap<String, Object> copy = new java.util.TreeMap<>();
                for (Map.Entry<?, ?> e : m.entrySet()) {
                    if (!(e.getKey() instanceof String k)) {
                        return false;
                    }
                    copy.put(k, e.getValue());
                }
                sorted = copy;
            }
            b.append('{');
            boolean first = true;
            for (Map.Entry<?, ?> e : sorted.entrySet()) {
                if (!(e.getKey() instanceof String k)) {
                    return false;
                }
                if (!first) {
                    b.append(',');
                }
                first = false;
                jcsString(b, k);
                b.append(':');
                if (!writeJcs(b, e.getValue(), depth + 1)) {
                    return false;
                }
            }
            b.append('}');
        } else if (v instanceof List<?> l) {
            b.append('[');
            boolean first = true;
            for (Object o : l) {
                if (!first) {
                    b.append(',');
                }
                first = false;
                if (!writeJcs(b, o, depth + 1)) {
                    return false;
                }
            }
            b.append(']');
        } else {
            return false;
        }
        return true;
    }

    /** RFC 8785 form of a JSON text. */
    static String jcs(String json) {
        try {
            return new JsonCanonicalizer(json).getEncodedString();
        } catch (IOException e) {
            throw new IllegalArgumentException("audit details must be JSON", e);
        }
    }

    /** The v1 hash input after {@code prev_hash "|"}: a Jackson-written array (kept to verify old chains). */
    public String canonical() {
        StringWriter w = new StringWriter(256);
        try (JsonGenerator g = CANONICAL.getFactory().createGenerator(w)) {
            g.writeStartArray();
            g.writeString(tenantId);
            g.writeNumber(atMs);
            for (String s : new String[]{type, outcome, subject, subjectIss, actor, agentId, clientId, resource, scopes,
                    correlationId, requestId, sourceIp, details}) {
                if (s == null) {
                    g.writeNull();
                } else {
                    g.writeString(s);
                }
            }
            g.writeEndArray();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return w.toString();
    }

    public List<String> actorChain() {
        return actor == null ? List.of() : List.of(actor.split(" > "));
    }

    static String canonicalJson(Map<String, Object> map) {
        try {
            // Round-trip through a tree so nested maps and records are sorted too.
            return CANONICAL.writeValueAsString(CANONICAL.convertValue(map, Object.class));
        } catch (IOException e) {
            throw new IllegalArgumentException("audit details must be JSON-serialisable", e);
        }
    }

    private static final ThreadLocal<MessageDigest> SHA256 = ThreadLocal.withInitial(() -> {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    });
    private static final HexFormat HEX = HexFormat.of();

    static String sha256Hex(String s) {
        return sha256Hex(s.getBytes(StandardCharsets.UTF_8));
    }

    static String sha256Hex(byte[] b) {
        MessageDigest md = SHA256.get(); // digest() resets it
        return HEX.formatHex(md.digest(b));
    }
}
