package dev.deputy.broker.audit;

import com.fasterxml.jackson.core.type.TypeReference;
import com.nimbusds.jose.jwk.JWKSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * scripts/verify-audit.py (Python, standard library only, written from docs/audit.md) and the broker's
 * {@link OfflineVerifier} agree on an exported chain with non-ASCII text, control characters, a v1 prefix followed
 * by v2 entries and a key rotation (the retired key unpublished), and on tampered copies of it: edited, deleted,
 * appended, cut together with its checkpoints, rewritten and re-sealed, and a forged witness line. The witness
 * is the broker's own witness file.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class IndependentVerifierTest {
    static final Path SCRIPT = locate();
    TestBackends b;
    Path dir;
    String tenant;
    List<String> export;
    String jwks;
    Path witnessFile;
    long last;

    static Path locate() {
        Path p = Path.of("").toAbsolutePath();
        while (p != null && !Files.exists(p.resolve("scripts/verify-audit.py"))) {
            p = p.getParent();
        }
        if (p == null) {
            throw new IllegalStateException("scripts/verify-audit.py not found above " + Path.of("").toAbsolutePath());
        }
        return p.resolve("scripts/verify-audit.py");
    }

    @BeforeAll
    void chain() throws Exception {
        b = TestBackends.h2();
        dir = Files.createTempDirectory("deputy-indep");
        tenant = TestBackends.tenant();
        TestBackends.MemorySigner signer = new TestBackends.MemorySigner();
        AuditWitness witness = new AuditWitness(dir.resolve("witness"), List.of());
        AuditLog log = new AuditLog(b.store, witness, Clock.systemUTC());
        AuditVerifier v = new AuditVerifier(b.store, signer);
        AuditCheckpoints cps = new AuditCheckpoints(b.store, log, v, signer, null, witness, 0);

        // a chain begun before V90: three entries in the first canonical form
        String prev = AuditEntry.GENESIS;
        long now = System.currentTimeMillis() - 60_000;
        for (int i = 1; i <= 3; i++) {
            AuditEntry e = AuditSeal.seal(event(i), i, now + i, prev, AuditEntry.CANON_V1);
            b.store.insert(List.of(e));
            prev = e.hash();
        }
        for (int i = 4; i <= 9; i++) {
            log.append(event(i));
        }
        cps.checkpoint(tenant);
        String oldKid = signer.activeKid(tenant);
        signer.rotate();
        cps.periodic(tenant); // the new key re-signs the head while the old one is published: endorsement
        for (int i = 10; i <= 14; i++) {
            log.append(event(i));
        }
        cps.checkpoint(tenant);
        signer.unpublish(oldKid);
        last = 14;

        ByteArrayOutputStream out = new ByteArrayOutputStream();
        new AuditExporter(b.store, log, cps).exportJsonl(tenant, 1, null, out);
        export = out.toString(StandardCharsets.UTF_8).lines().toList();
        jwks = new JWKSet(new ArrayList<>(signer.published(tenant).values())).toString(true);
        witnessFile = witness.file(tenant).orElseThrow();
        assertTrue(Files.exists(witnessFile));
        assertTrue(export.stream().anyMatch(l -> l.contains("\"canon\":1")) && export.stream().anyMatch(l -> l.contains("\"canon\":2")));
    }

    AuditEvent event(int i) {
        // hostile, realistic content: dotted ids, non-ASCII (BMP and beyond), control characters, quotes, spaces
        return AuditEvent.of(tenant, i % 2 == 0 ? EventTypes.TOKEN_EXCHANGED : EventTypes.TOKEN_ISSUED,
                        AuditEvent.Outcome.SUCCESS)
                .subject("00u/ä+ |x" + i + " jonathan.williams", "https://idp.exämple/日本")
                .client("frontend.dashboard-production").agent("payments.settlement-reconciler")
                .actors(List.of("agt_B" + i, "agt_A \"quoted\""))
                .resource("https://inventory.example/mcp").scopes("files:read  tools:call")
                .detail("reason", "line1\nline2\ttab\u0001ctl \\ back \"q\" é 🔐 \u2028")
                .detail("n", i).detail("big", 9_007_199_254_740_000L).detail("ok", i % 3 == 0)
                .detail("nested", Map.of("zeta", List.of("ü", 1, "x"), "Alpha", "A", "émoji🔐", "k"))
                .build();
    }

    @AfterAll
    void stop() throws Exception {
        b.shutdown();
    }

    // --- the cases -------------------------------------------------------------------------------------------------

    @Test
    void intactChainVerifiesInBoth() throws Exception {
        agree(export, null, null);
        agree(export, witnessFile, null);
        Map<String, Object> py = python(write(export), witnessFile);
        assertEquals(last, ((Number) py.get("witnessed_through")).longValue(), py.toString());
    }

    @Test
    void editedEntry() throws Exception {
        agree(mapEntry(export, 6, m -> put(m, "subject", "mallory")), null, "edited");
        agree(mapEntry(export, 2, m -> put(m, "subject", "mallory")), null, "edited"); // a v1 entry
        agree(mapEntry(export, 8, m -> put(m, "details", ((String) m.get("details")).replace("é", "e"))), null, "edited");
    }

    @Test
    void deletedEntry() throws Exception {
        agree(export.stream().filter(l -> !isEntry(l, 7)).toList(), null, "deleted");
    }

    @Test
    void appendedEntryIsUnsignedAndNotWitnessed() throws Exception {
        List<String> appended = append(export);
        agree(appended, null, "unsigned");
        agree(appended, witnessFile, "extended");
    }

    @Test
    void cutTogetherWithItsCheckpointsPassesWithoutWitnessAndIsCaughtWithIt() throws Exception {
        List<String> cut = cutAfter(export, 9);
        agree(cut, null, null); // what the database alone can prove: nothing is missing
        agree(cut, witnessFile, "cut");
    }

    @Test
    void rewrittenAndResealedTailIsCaughtByTheWitness() throws Exception {
        List<String> rewritten = reseal(cutAfter(export, 14), 11, m -> put(m, "subject", "mallory"));
        agree(rewritten, null, "unsigned");
        agree(rewritten, witnessFile, "rewritten");
    }

    @Test
    void forgedWitnessLineIsRefused() throws Exception {
        List<String> lines = Files.readAllLines(witnessFile);
        String forged = lines.get(lines.size() - 1).replaceFirst("\"head\":\"[0-9a-f]{64}\"", "\"head\":\"" + "ab".repeat(32) + "\"");
        // the line's head is not what the JWS signed; a JWS with an altered payload does not verify
        String jws = (String) parse(forged).get("jws");
        String[] parts = jws.split("\\.");
        String payload = new String(java.util.Base64.getUrlDecoder().decode(parts[1]), StandardCharsets.UTF_8)
                .replaceFirst("\"head\":\"[0-9a-f]{64}\"", "\"head\":\"" + "ab".repeat(32) + "\"");
        String alteredJws = parts[0] + "." + java.util.Base64.getUrlEncoder().withoutPadding()
                .encodeToString(payload.getBytes(StandardCharsets.UTF_8)) + "." + parts[2];
        Path w = dir.resolve("forged-witness.jsonl");
        Files.write(w, List.of(alteredJws));
        agree(export, w, "witness_signature");
    }

    @Test
    void bareJwsLinesAsAnHttpSinkReceivesThemAreAWitnessToo() throws Exception {
        List<String> jwsLines = new ArrayList<>();
        for (String l : Files.readAllLines(witnessFile)) {
            jwsLines.add((String) parse(l).get("jws"));
        }
        Path w = dir.resolve("sink.jws");
        Files.write(w, jwsLines);
        agree(export, w, null);
        agree(cutAfter(export, 9), w, "cut");
    }

    // --- helpers ----------------------------------------------------------------------------------------------------

    /** Runs both verifiers; both must say ok (expected null) or name the same, expected problem. */
    void agree(List<String> lines, Path witness, String expected) throws Exception {
        List<Witnessed> ws = witness == null ? null : AuditWitness.read(Files.readAllLines(witness));
        OfflineVerifier.Result java = OfflineVerifier.verify(new StringReader(String.join("\n", lines)), jwks, ws);
        Map<String, Object> py = python(write(lines), witness);
        if (expected == null) {
            assertTrue(java.ok(), "java: " + java);
            assertEquals(Boolean.TRUE, py.get("ok"), "python: " + py);
        } else {
            assertFalse(java.ok(), "java should fail: " + java);
            assertEquals(expected, java.problem(), "java: " + java);
            assertEquals(Boolean.FALSE, py.get("ok"), "python: " + py);
            assertEquals(expected, py.get("problem"), "python: " + py);
            assertEquals(java.firstBadSeq(), ((Number) py.get("first_bad_seq")).longValue(), "java " + java + " / python " + py);
        }
    }

    Path write(List<String> lines) throws IOException {
        Path f = Files.createTempFile(dir, "export", ".jsonl");
        Files.write(f, lines, StandardCharsets.UTF_8);
        return f;
    }

    Map<String, Object> python(Path export, Path witness) throws Exception {
        Path jwksFile = dir.resolve("jwks.json");
        Files.writeString(jwksFile, jwks);
        List<String> cmd = new ArrayList<>(List.of("python3", SCRIPT.toString(), export.toString(), "--jwks", jwksFile.toString()));
        if (witness != null) {
            cmd.add("--witness");
            cmd.add(witness.toString());
        }
        Process p = new ProcessBuilder(cmd).redirectErrorStream(false).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS));
        assertTrue(p.exitValue() == 0 || p.exitValue() == 1, "python exit " + p.exitValue() + ": " + err);
        Map<String, Object> r = parse(out.strip());
        assertEquals(p.exitValue() == 0, Boolean.TRUE.equals(r.get("ok")), out);
        return r;
    }

    static Map<String, Object> parse(String json) throws IOException {
        return AuditJson.MAPPER.readValue(json, new TypeReference<LinkedHashMap<String, Object>>() {
        });
    }

    static String json(Map<String, Object> m) throws IOException {
        return AuditJson.MAPPER.writeValueAsString(m);
    }

    static boolean isEntry(String line, long seq) {
        try {
            Map<String, Object> m = parse(line);
            return "entry".equals(m.get("type")) && ((Number) m.get("seq")).longValue() == seq;
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    static Map<String, Object> put(Map<String, Object> m, String k, Object v) {
        m.put(k, v);
        return m;
    }

    static List<String> mapEntry(List<String> lines, long seq, UnaryOperator<Map<String, Object>> f) throws IOException {
        List<String> out = new ArrayList<>();
        for (String l : lines) {
            out.add(isEntry(l, seq) ? json(f.apply(parse(l))) : l);
        }
        return out;
    }

    /** A copy as an export of the database after entries after k and the checkpoints covering them were deleted. */
    static List<String> cutAfter(List<String> lines, long k) throws IOException {
        List<String> out = new ArrayList<>();
        for (String l : lines) {
            Map<String, Object> m = parse(l);
            String t = (String) m.get("type");
            if ("header".equals(t)) {
                m.put("to", k);
                out.add(json(m));
            } else if (("entry".equals(t) || "checkpoint".equals(t)) && ((Number) m.get("seq")).longValue() > k) {
                continue;
            } else {
                out.add(l);
            }
        }
        return out;
    }

    /** Edits entry k, re-hashes it and every entry after it, and drops the checkpoints from k on (cannot re-sign). */
    static List<String> reseal(List<String> lines, long k, UnaryOperator<Map<String, Object>> edit) throws IOException {
        List<String> out = new ArrayList<>();
        String prev = null;
        for (String l : lines) {
            Map<String, Object> m = parse(l);
            String t = (String) m.get("type");
            long seq = m.get("seq") instanceof Number n ? n.longValue() : -1;
            if ("entry".equals(t) && seq >= k) {
                if (seq == k) {
                    m = edit.apply(m);
                }
                m.put("prev_hash", prev == null ? m.get("prev_hash") : prev);
                AuditEntry e = AuditJson.fromExportLine(m);
                m.put("hash", e.computeHash());
                prev = (String) m.get("hash");
                out.add(json(m));
            } else if ("checkpoint".equals(t) && seq >= k) {
                continue;
            } else {
                out.add(l);
            }
        }
        return out;
    }

    /** Appends a well-formed entry after the last one (sealed with the public recipe) and extends the header. */
    List<String> append(List<String> lines) throws IOException {
        Map<String, Object> lastEntry = null;
        for (String l : lines) {
            if (isEntry(l, last)) {
                lastEntry = parse(l);
            }
        }
        AuditEntry forged = AuditSeal.seal(AuditEvent.of(tenant, EventTypes.TOKEN_ISSUED, AuditEvent.Outcome.SUCCESS)
                .subject("mallory", "https://idp.example").build(), last + 1, System.currentTimeMillis(),
                (String) lastEntry.get("hash"));
        List<String> out = new ArrayList<>();
        for (String l : lines) {
            Map<String, Object> m = parse(l);
            if ("header".equals(m.get("type"))) {
                m.put("to", last + 1);
                out.add(json(m));
            } else {
                out.add(l);
                if (isEntry(l, last)) {
                    out.add(json(AuditJson.exportLine(forged)));
                }
            }
        }
        return out;
    }
}
