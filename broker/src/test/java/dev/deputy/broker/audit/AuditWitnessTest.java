package dev.deputy.broker.audit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Base64;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The witness on its own: the file, what a new process reads back from it, reading witnesses, an unreachable sink. */
class AuditWitnessTest {
    @TempDir
    Path dir;

    static String jws(String tenant, long seq, String head) {
        Base64.Encoder b = Base64.getUrlEncoder().withoutPadding();
        return b.encodeToString("{\"alg\":\"ES256\",\"typ\":\"deputy-audit-checkpoint+jwt\",\"kid\":\"k\"}".getBytes(StandardCharsets.UTF_8))
                + "." + b.encodeToString(("{\"tenant\":\"" + tenant + "\",\"seq\":" + seq + ",\"head\":\"" + head + "\"}")
                .getBytes(StandardCharsets.UTF_8)) + ".c2ln";
    }

    static AuditCheckpoint cp(String tenant, long seq) {
        String head = String.format("%064x", seq);
        return new AuditCheckpoint(tenant, seq, head, 1_765_000_000_000L + seq, "k", "{\"kty\":\"EC\"}", jws(tenant, seq, head));
    }

    @Test
    void theFileIs0600AppendOnlyAndANewProcessReadsTheLatestHeadFromItsTail() throws Exception {
        String tenant = "acme.prod/ü"; // dotted, slash, non-ASCII: URL-encoded file name
        AuditWitness w = new AuditWitness(dir, List.of());
        for (long s = 1; s <= 400; s++) { // more than the 64 KiB read at start
            w.publish(cp(tenant, s * 10));
        }
        Path f = w.file(tenant).orElseThrow();
        assertEquals(dir, f.getParent());
        assertEquals("acme.prod%2F%C3%BC.jsonl", f.getFileName().toString());
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(f)));
        assertTrue(Files.size(f) > 64 * 1024, "the test needs a file beyond the tail read: " + Files.size(f));
        assertEquals(400, Files.readAllLines(f).size());

        AuditWitness again = new AuditWitness(dir, List.of());
        assertEquals(new AuditEntry.Head(4000, String.format("%064x", 4000)), again.witnessed(tenant).orElseThrow());
        assertEquals(java.util.Set.of(tenant), again.witnessedTenants());
        // every line is a witness for the verifiers
        assertEquals(400, AuditWitness.read(Files.readAllLines(f)).size());
    }

    @Test
    void readingAWitnessTakesCheckpointLinesAndBareJwsLinesAndSkipsTheRest() {
        List<Witnessed> ws = AuditWitness.read(List.of(
                "{\"type\":\"checkpoint\",\"tenant\":\"t\",\"seq\":3,\"head\":\"" + "a".repeat(64) + "\",\"time\":1,\"kid\":\"k\","
                        + "\"public_jwk\":\"{}\",\"jws\":\"" + jws("t", 3, "a".repeat(64)) + "\"}",
                jws("t", 7, "b".repeat(64)),
                "", "{\"type\":\"entry\",\"seq\":1}", "not a jws", "{broken json",
                jws("t", 9, "c".repeat(64)).replace(".c2ln", "")));
        assertEquals(List.of(3L, 7L), ws.stream().map(Witnessed::seq).toList());
        assertEquals("b".repeat(64), ws.get(1).head());
        assertNotNull(ws.get(0).checkpoint());
    }

    @Test
    void anUnreachableSinkNeverBlocksPublishingAndShowsItsLag() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort(); // closed again: connections are refused
        }
        AuditWitness w = new AuditWitness(dir, List.of("http://127.0.0.1:" + port + "/siem"));
        long t0 = System.nanoTime();
        for (long s = 1; s <= 5; s++) {
            w.publish(cp("t", s));
        }
        assertTrue(System.nanoTime() - t0 < 5_000_000_000L, "publishing does not wait for the sink");
        AuditWitness.SinkStatus st = w.status().get(0);
        long deadline = System.nanoTime() + 30_000_000_000L;
        while ((st.lastError() == null || st.lagMs() == 0) && System.nanoTime() < deadline) {
            Thread.sleep(20);
            st = w.status().get(0);
        }
        assertEquals(5, st.pending(), st.toString());
        assertEquals(0, st.delivered());
        assertNotNull(st.lastError(), st.toString());
        assertTrue(st.lagMs() > 0, st.toString());
        assertEquals(new AuditEntry.Head(5, String.format("%064x", 5)), w.witnessed("t").orElseThrow(), "the file has it");
    }
}
