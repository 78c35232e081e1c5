package dev.deputy.broker.audit;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.erdtman.jcs.JsonCanonicalizer;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The v2 hash input that {@link AuditEntry} writes member by member is, byte for byte, what the RFC 8785 library
 * makes of the whole object — for every control character, quotes, backslashes, non-ASCII (BMP, beyond it, U+2028),
 * null fields and details with keys whose UTF-16 order differs from their code-point order.
 */
class AuditEntryCanonicalTest {
    static final ObjectMapper M = new ObjectMapper();

    static String nasty(int i) {
        StringBuilder b = new StringBuilder("v" + i + " \"q\" \\ / é 日本 🔐 \u2028 \u007f ");
        for (char c = 0; c < 32; c++) {
            b.append(c);
        }
        return b.toString();
    }

    static AuditEntry entry(int i, boolean nulls) {
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("z", nasty(i));
        details.put("\uFB01", "ligature (after the surrogates in UTF-16 order, before them in code points)");
        details.put("😀", List.of(1, -5, 1_765_000_000_000L, true, false, Map.of("b", "x", "a", List.of())));
        details.put("A", Map.of("é", 1, "e", 2));
        details.put("n", i);
        AuditEvent ev = AuditEvent.of("tenant-ü", "token.exchanged", AuditEvent.Outcome.SUCCESS)
                .subject(nulls ? null : nasty(i), nulls ? null : "https://idp.exämple/")
                .actors(nulls ? List.of() : List.of("agt_B", "agt_A \"x\""))
                .client(nulls ? null : "cl\u0001ient").agent(nulls ? null : "agt_B").resource(nulls ? null : "https://r.example/ü")
                .scopes(nulls ? null : "a  b").detail("x", 1).build();
        // details beyond what the secret guard accepts as keys: build the entry directly
        String canonicalDetails = AuditEntry.jcs(toJson(details));
        return new AuditEntry("tenant-ü", i, 1_765_000_000_000L + i, "token.exchanged", "success", ev.subject(),
                ev.subjectIss(), nulls ? null : "agt_B > agt_A \"x\"", ev.agentId(), ev.clientId(), ev.resource(), ev.scopes(),
                nulls ? null : "corr-" + i, nulls ? null : "req-" + i, nulls ? null : "::1", i % 3 == 0 ? null : canonicalDetails,
                "ab".repeat(32), null, AuditEntry.CANON_V2);
    }

    static String toJson(Object o) {
        try {
            return M.writeValueAsString(o);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** The reference: the whole object, in any member order, through the library. */
    static byte[] reference(AuditEntry e) throws Exception {
        ObjectNode o = M.createObjectNode();
        o.put("type", e.type());
        o.put("time", e.atMs());
        o.put("tenant", e.tenantId());
        o.put("prev_hash", e.prevHash());
        o.put("canon", 2);
        String[][] f = {{"subject", e.subject()}, {"subject_iss", e.subjectIss()}, {"actor", e.actor()}, {"agent_id", e.agentId()},
                {"client_id", e.clientId()}, {"resource", e.resource()}, {"scopes", e.scopes()}, {"correlation_id", e.correlationId()},
                {"request_id", e.requestId()}, {"source_ip", e.sourceIp()}, {"outcome", e.outcome()}};
        for (String[] kv : f) {
            o.put(kv[0], kv[1]);
        }
        o.set("details", e.details() == null ? M.nullNode() : M.readTree(e.details()));
        return new JsonCanonicalizer(M.writeValueAsString(o)).getEncodedUTF8();
    }

    @Test
    void memberByMemberFormIsTheLibrarysFormOfTheWholeObject() throws Exception {
        List<AuditEntry> entries = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            entries.add(entry(i, i % 4 == 1));
        }
        for (AuditEntry e : entries) {
            assertArrayEquals(reference(e), e.canonicalV2(), new String(reference(e), StandardCharsets.UTF_8));
        }
        String text = new String(entries.get(0).canonicalV2(), StandardCharsets.UTF_8);
        assertTrue(text.startsWith("{\"actor\":\"agt_B > agt_A \\\"x\\\"\",\"agent_id\":\"agt_B\",\"canon\":2,"), text);
        assertTrue(text.contains("\\u0000\\u0001") && text.contains("\\b\\t\\n\\u000b\\f\\r") && text.contains("\\u001f"), text);
        assertTrue(text.contains("é 日本 🔐 \u2028 \u007f"), "non-ASCII as itself: " + text);
    }

    @Test
    void sealingAndRecomputingAgreeAndNonCanonicalStoredDetailsStillHashTheSame() {
        // a type outside the catalogue keeps free details (a catalogue type keeps only its declared fields: AuditSchema)
        AuditEntry sealed = AuditSeal.seal(AuditEvent.of("t", "test.canonical", AuditEvent.Outcome.SUCCESS)
                .detail("b", "é").detail("a", List.of(2, 1)).build(), 7, 1_765_000_000_000L, "0".repeat(64));
        assertEquals(AuditEntry.CANON_V2, sealed.canon());
        assertEquals("{\"a\":[2,1],\"b\":\"é\"}", sealed.details(), "stored in RFC 8785 form");
        assertEquals(sealed.hash(), sealed.computeHash());
        // the same object written differently hashes the same (the hash is over the object, not the text)
        AuditEntry spaced = new AuditEntry(sealed.tenantId(), 7, sealed.atMs(), sealed.type(), sealed.outcome(), null, null,
                null, null, null, null, null, null, null, null, "{ \"b\" : \"\\u00e9\", \"a\" : [2, 1] }", sealed.prevHash(),
                sealed.hash(), AuditEntry.CANON_V2);
        assertEquals(sealed.hash(), spaced.computeHash());
        // a different object does not
        AuditEntry other = new AuditEntry(sealed.tenantId(), 7, sealed.atMs(), sealed.type(), sealed.outcome(), null, null,
                null, null, null, null, null, null, null, null, "{\"a\":[1,2],\"b\":\"é\"}", sealed.prevHash(),
                sealed.hash(), AuditEntry.CANON_V2);
        assertNotEquals(sealed.hash(), other.computeHash());
        // details that are not an object: no hash matches
        AuditEntry broken = new AuditEntry(sealed.tenantId(), 7, sealed.atMs(), sealed.type(), sealed.outcome(), null, null,
                null, null, null, null, null, null, null, null, "{\"a\":", sealed.prevHash(), sealed.hash(), AuditEntry.CANON_V2);
        assertEquals("invalid", broken.computeHash());
    }
    /**
     * The verifier's shortcut ({@link AuditEntry#hashMatches}: the stored details hashed as they are, without the
     * canonicalizer) gives the verdict {@code hash().equals(computeHash())} gives: for an untouched entry, an
     * equivalent re-encoding, edited details, details that are not JSON, and details that close early and carry
     * members of their own after the object (which, written raw, would sit beside the entry's real members).
     */
    @Test
    void verifiersShortcutGivesTheSameVerdictAsTheFullComputation() {
        AuditEntry sealed = AuditSeal.seal(AuditEvent.of("tenant-ü", "test.canonical", AuditEvent.Outcome.SUCCESS)
                .detail("agent", "payments.settlement.reconciler").detail("who", "zoë-agent \"x\" \\ }{][")
                .detail("n", List.of(1, Map.of("b", "}", "a", "{"))).build(), 9, 1_765_000_000_000L, "0".repeat(64));
        assertTrue(sealed.hashMatches());
        for (String d : List.of(sealed.details(), " " + sealed.details(), sealed.details().replace("zoë", "zoe"),
                "{ \"who\" : \"zo\\u00eb-agent \\\"x\\\" \\\\ }{][\", \"n\":[1,{\"a\":\"{\",\"b\":\"}\"}], "
                        + "\"agent\":\"payments.settlement.reconciler\"}",
                sealed.details() + ",\"outcome\":\"success\"", sealed.details().substring(0, sealed.details().length() - 1),
                "{\"a\":1},{\"b\":2}", "[1]", "{}")) {
            AuditEntry e = new AuditEntry(sealed.tenantId(), 9, sealed.atMs(), sealed.type(), sealed.outcome(), null, null,
                    null, null, null, null, null, null, null, null, d, sealed.prevHash(), sealed.hash(), AuditEntry.CANON_V2);
            assertEquals(sealed.hash().equals(e.computeHash()), e.hashMatches(), d);
        }
        assertTrue(AuditEntry.oneJsonObject("{\"a\":\"}\\\"{\",\"b\":[{}]}"));
        assertTrue(!AuditEntry.oneJsonObject("{\"a\":1},\"outcome\":\"deny\"")
                && !AuditEntry.oneJsonObject("{\"a\":1} ") && !AuditEntry.oneJsonObject("{\"a\":\"}")
                && !AuditEntry.oneJsonObject("[{}]") && !AuditEntry.oneJsonObject("{"));
        // an edited member beside untouched details is still caught on the shortcut path
        AuditEntry denied = new AuditEntry(sealed.tenantId(), 9, sealed.atMs(), sealed.type(), "deny", null, null, null,
                null, null, null, null, null, null, null, sealed.details(), sealed.prevHash(), sealed.hash(), AuditEntry.CANON_V2);
        assertTrue(!denied.hashMatches());
    }

    /**
     * {@link AuditEntry#hashV2} (the seal's and the checkpoint's way: the hash input written into a thread's scratch
     * buffers, UTF-8 encoded there) gives the hex of {@code sha256(canonicalV2())} (the text made as a String and
     * encoded by the JDK): on a platform thread and on a virtual one, for every nasty entry above, lone surrogates
     * (the JDK writes {@code '?'}), a surrogate pair split by the end of a field, and details past the scratch size
     * (then the next, small entry still agrees: the buffers were grown and given back, not left with stale bytes).
     */
    @Test
    void scratchBufferHashIsTheHashOfTheCanonicalBytes() throws Exception {
        List<AuditEntry> entries = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            entries.add(entry(i, i % 4 == 1));
        }
        String lone = "hi \uD800 lo \uDC00 end \uD83D";
        entries.add(new AuditEntry("t", 1, 1L, "x.y", "success", lone, null, null, null, null, null, "\uD83D\uDD10" + lone,
                null, null, null, "{\"a\":\"" + lone + "\"}", "0".repeat(64), null, AuditEntry.CANON_V2));
        entries.add(new AuditEntry("t", 2, 2L, "x.y", "success", null, null, null, null, null, null, null, null, null, null,
                "{\"big\":\"" + "é日🔐".repeat(20_000) + "\"}", "0".repeat(64), null, AuditEntry.CANON_V2));
        entries.add(entries.get(0));
        entries.add(new AuditEntry("t", 3, 3L, "x.y", "success", null, null, null, null, null, null, null, null, null, null,
                "[1]", "0".repeat(64), null, AuditEntry.CANON_V2));
        for (AuditEntry e : entries) {
            byte[] text = e.canonicalV2(true);
            String expected = text == null ? null : AuditEntry.sha256Hex(text);
            assertEquals(expected, e.hashV2(true), "platform thread, seq " + e.seq());
            String[] onVirtual = new String[1];
            Thread.ofVirtual().start(() -> onVirtual[0] = e.hashV2(true)).join();
            assertEquals(expected, onVirtual[0], "virtual thread, seq " + e.seq());
            byte[] full = e.canonicalV2(false);
            assertEquals(full == null ? null : AuditEntry.sha256Hex(full), e.hashV2(false), "canonicalized details, seq " + e.seq());
        }
        AuditEntry sealed = AuditSeal.seal(AuditEvent.of("t", "test.canonical", AuditEvent.Outcome.SUCCESS)
                .detail("who", lone).build(), 4, 4L, "0".repeat(64));
        assertEquals(AuditEntry.sha256Hex(sealed.canonicalV2(true)), sealed.hash());
        assertTrue(sealed.hashMatches());
    }
}
