package dev.deputy.broker.audit;

import com.fasterxml.jackson.core.type.TypeReference;
import com.nimbusds.jose.jwk.JWKSet;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Verifies a JSONL export (or a retention archive) with no database and no broker: only the file and the
 * tenant's JWKS. Checks every entry's hash and link, every checkpoint's signature (trust from the JWKS,
 * extended to retired keys by endorsement, see {@link CheckpointVerifier}), that the checkpoints match the
 * entries they name, and that the last entry is covered by a signed checkpoint.
 *
 * With a witness (the broker's witness file, or the JWS lines an HTTP sink received) it also names a cut,
 * rewritten or extended tail (see {@link #verify(Reader, String, List)}).
 *
 * <pre>java -cp deputy-broker.jar dev.deputy.broker.audit.OfflineVerifier export.jsonl jwks.json [--witness FILE|URL]</pre>
 * Exit status 0 when the range verifies, 1 when it does not, 2 on bad usage.
 */
public final class OfflineVerifier {
    private OfflineVerifier() {
    }

    public record Result(boolean ok, String tenant, long from, long to, long entries, long signedThrough,
                         int checkpointsVerified, boolean anchorSigned, Long firstBadSeq, String problem, String message,
                         int witnessChecked, long witnessedThrough) {
        public Result(boolean ok, String tenant, long from, long to, long entries, long signedThrough,
                      int checkpointsVerified, boolean anchorSigned, Long firstBadSeq, String problem, String message) {
            this(ok, tenant, from, to, entries, signedThrough, checkpointsVerified, anchorSigned, firstBadSeq, problem,
                    message, 0, 0);
        }

        Result withWitness(int checked, long through) {
            return new Result(ok, tenant, from, to, entries, signedThrough, checkpointsVerified, anchorSigned,
                    firstBadSeq, problem, message, checked, through);
        }

        public Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("ok", ok);
            m.put("tenant", tenant);
            m.put("from", from);
            m.put("to", to);
            m.put("entries", entries);
            m.put("signed_through", signedThrough);
            m.put("checkpoints_verified", checkpointsVerified);
            m.put("anchor_signed", anchorSigned);
            m.put("witness_checked", witnessChecked);
            m.put("witnessed_through", witnessedThrough);
            if (!ok) {
                m.put("first_bad_seq", firstBadSeq);
                m.put("problem", problem);
                m.put("message", message);
            }
            return m;
        }
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 2 && !(args.length == 4 && "--witness".equals(args[2]))) {
            System.err.println("usage: OfflineVerifier <export.jsonl> <jwks.json> [--witness <file|url>]");
            System.exit(2);
        }
        List<Witnessed> witness = args.length == 4 ? Witnessed.read(args[3], why -> System.err.println("witness: unreadable line skipped (" + why + ")")) : null;
        Result r;
        try (Reader in = Files.newBufferedReader(Path.of(args[0]), StandardCharsets.UTF_8)) {
            r = verify(in, Files.readString(Path.of(args[1])), witness);
        }
        System.out.println(AuditJson.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(r.toMap()));
        System.exit(r.ok() ? 0 : 1);
    }

    public static Result verify(Path export, String jwksJson) throws IOException {
        try (Reader r = Files.newBufferedReader(export, StandardCharsets.UTF_8)) {
            return verify(r, jwksJson);
        }
    }

    public static Result verify(Reader in, String jwksJson) throws IOException {
        return verify(in, jwksJson, null);
    }

    /**
     * Verifies the export and, when {@code witness} is given (the checkpoints an outside witness holds: the witness
     * file, or the JWS lines an HTTP sink received), compares the export with every witnessed head of its tenant:
     * {@code rewritten} when an exported entry has another hash than the witness recorded, {@code cut} when a
     * witnessed entry lies beyond the end of an export that runs to the head, {@code extended} when such an export
     * goes on past the last witnessed head, {@code witness_signature} when a witnessed checkpoint does not verify.
     */
    public static Result verify(Reader in, String jwksJson, List<Witnessed> witness) throws IOException {
        return verifyExport(in, jwksJson, witness);
    }

    private static Result verifyExport(Reader in, String jwksJson, List<Witnessed> witness) throws IOException {
        JWKSet jwks;
        try {
            jwks = JWKSet.parse(jwksJson);
        } catch (java.text.ParseException e) {
            return new Result(false, null, 0, 0, 0, 0, 0, false, null, "bad_jwks", "the JWKS does not parse: " + e.getMessage());
        }
        BufferedReader br = in instanceof BufferedReader b ? b : new BufferedReader(in);
        TypeReference<LinkedHashMap<String, Object>> type = new TypeReference<>() {
        };
        Map<String, Object> header = null;
        List<AuditCheckpoint> cps = new ArrayList<>();
        String tenant = null;
        long from = 0;
        long to = 0;
        long expected = 0;
        String prevHash = null;
        long count = 0;
        Map<Long, String> entryHashAtSeq = new HashMap<>();
        String line;
        Result bad = null;
        while ((line = br.readLine()) != null) {
            if (line.isBlank()) {
                continue;
            }
            Map<String, Object> m = AuditJson.MAPPER.readValue(line, type);
            String t = String.valueOf(m.get("type"));
            switch (t) {
                case "header" -> {
                    header = m;
                    tenant = (String) m.get("tenant");
                    from = ((Number) m.get("from")).longValue();
                    to = ((Number) m.get("to")).longValue();
                    expected = from;
                    prevHash = (String) m.get("anchor_hash");
                }
                case "entry" -> {
                    if (header == null) {
                        return fail(null, 0, 0, count, 0, "format", "entry before header");
                    }
                    if (bad != null) {
                        continue;
                    }
                    AuditEntry e = AuditJson.fromExportLine(m);
                    if (e.seq() != expected) {
                        bad = fail(tenant, from, to, count, expected, "deleted", "entries " + expected + ".." + (e.seq() - 1)
                                + " are missing from the export");
                    } else if (!tenant.equals(e.tenantId())) {
                        bad = fail(tenant, from, to, count, e.seq(), "edited", "entry " + e.seq() + " is of another tenant");
                    } else if (!e.hashMatches()) {
                        bad = fail(tenant, from, to, count, e.seq(), "edited", "entry " + e.seq() + "'s content does not match its hash");
                    } else if (prevHash != null && !prevHash.equals(e.prevHash())) {
                        bad = fail(tenant, from, to, count, e.seq(), "broken_link", "entry " + e.seq()
                                + " does not link to the entry before it (deleted, inserted or reordered)");
                    } else {
                        prevHash = e.hash();
                        entryHashAtSeq.put(e.seq(), e.hash());
                        expected++;
                        count++;
                    }
                }
                case "checkpoint" -> cps.add(AuditJson.checkpoint(m));
                default -> {
                    // keys line and future line types: the keys are also inside each checkpoint
                }
            }
        }
        if (header == null) {
            return fail(null, 0, 0, 0, 0, "format", "no header line");
        }
        if (bad != null) {
            return bad;
        }
        long last = expected - 1;
        CheckpointVerifier.Result cr = CheckpointVerifier.verify(tenant, cps, jwks.getKeys());
        if (!cr.ok()) {
            Map.Entry<Long, String> p = cr.problems().entrySet().iterator().next();
            return new Result(false, tenant, from, to, count, 0, cr.verified(), false, p.getKey(), "checkpoint_signature", p.getValue());
        }
        long signedThrough = from - 1;
        boolean anchorSigned = from == 1;
        for (AuditCheckpoint c : cps) {
            if (c.seq() == from - 1 && c.headHash().equals(header.get("anchor_hash"))) {
                anchorSigned = true;
            }
            if (c.seq() >= from && c.seq() <= last) {
                if (!c.headHash().equals(entryHashAtSeq.get(c.seq()))) {
                    return new Result(false, tenant, from, to, count, signedThrough, cr.verified(), anchorSigned, c.seq(),
                            "checkpoint_mismatch", "entry " + c.seq() + " differs from the signed checkpoint");
                }
                signedThrough = Math.max(signedThrough, c.seq());
            } else if (c.seq() > last && c.seq() <= to) {
                return new Result(false, tenant, from, to, count, signedThrough, cr.verified(), anchorSigned, last + 1,
                        "truncated", "a signed checkpoint records entry " + c.seq() + " but the export ends at " + last);
            }
        }
        if (last < to) {
            return new Result(false, tenant, from, to, count, signedThrough, cr.verified(), anchorSigned, last + 1,
                    "truncated", "the header says the range ends at " + to + " but the entries end at " + last);
        }
        Result done;
        if (signedThrough < last) {
            done = new Result(false, tenant, from, to, count, signedThrough, cr.verified(), anchorSigned, signedThrough + 1,
                    "unsigned", "entries " + (signedThrough + 1) + ".." + last + " are not covered by a signed checkpoint");
        } else {
            done = new Result(true, tenant, from, to, count, signedThrough, cr.verified(), anchorSigned, null, null, null);
        }
        if (witness == null) {
            return done;
        }
        return againstWitness(done, witness, jwks, cps, cr, Boolean.TRUE.equals(header.get("through_head")), last,
                entryHashAtSeq);
    }

    /** The witness comparison; a witness finding outranks an {@code unsigned} tail (it says what happened to it). */
    private static Result againstWitness(Result done, List<Witnessed> witness, JWKSet jwks,
                                         List<AuditCheckpoint> cps, CheckpointVerifier.Result cr, boolean throughHead,
                                         long last, Map<Long, String> entryHashAtSeq) {
        String tenant = done.tenant();
        Map<String, com.nimbusds.jose.jwk.JWK> byKid = new HashMap<>();
        for (AuditCheckpoint c : cps) {
            try {
                com.nimbusds.jose.jwk.JWK k = com.nimbusds.jose.jwk.JWK.parse(c.publicJwk());
                if (cr.trustedThumbprints().contains(CheckpointVerifier.thumbprint(k))) {
                    byKid.put(c.kid(), k);
                }
            } catch (java.text.ParseException | RuntimeException ignored) {
                // unreadable keys were reported by the checkpoint verification
            }
        }
        for (com.nimbusds.jose.jwk.JWK k : jwks.getKeys()) {
            byKid.put(k.getKeyID(), k.toPublicJWK());
        }
        int checked = 0;
        long through = 0;
        for (Witnessed w : witness) {
            if (!tenant.equals(w.tenant())) {
                continue;
            }
            String kid;
            try {
                kid = com.nimbusds.jwt.SignedJWT.parse(w.jws()).getHeader().getKeyID();
            } catch (java.text.ParseException e) {
                kid = null;
            }
            com.nimbusds.jose.jwk.JWK key = kid == null ? null : byKid.get(kid);
            String problem = key == null ? "witnessed checkpoint " + w.seq() + " is signed by key " + kid
                    + ", which is neither in the JWKS nor endorsed by a trusted checkpoint"
                    : CheckpointVerifier.check(tenant, new AuditCheckpoint(tenant, w.seq(), w.head(), 0, kid,
                    key.toJSONString(), w.jws()), key);
            if (problem != null) {
                return fail(done, w.seq(), "witness_signature", problem, checked, through);
            }
            checked++;
            through = Math.max(through, w.seq());
            if (w.seq() >= done.from() && w.seq() <= last) {
                if (!w.head().equals(entryHashAtSeq.get(w.seq()))) {
                    return fail(done, w.seq(), "rewritten", "entry " + w.seq() + " is not the entry the witness saw (hash "
                            + w.head() + "): the chain was rewritten at or before it", checked, through);
                }
            } else if (w.seq() > last && throughHead) {
                return fail(done, last + 1, "cut", "the witness saw entry " + w.seq() + " but the chain ends at " + last
                        + ": entries " + (last + 1) + ".." + w.seq() + " were removed (with the checkpoints that covered them)",
                        checked, through);
            }
        }
        if (checked > 0 && throughHead && last > through) {
            return fail(done, through + 1, "extended", "entries " + (through + 1) + ".." + last + " follow the last witnessed"
                    + " head (" + through + "): not witnessed (appended after it, or made after the witness copy was taken)",
                    checked, through);
        }
        return done.withWitness(checked, through);
    }

    private static Result fail(Result d, long seq, String problem, String message, int checked, long through) {
        return new Result(false, d.tenant(), d.from(), d.to(), d.entries(), d.signedThrough(), d.checkpointsVerified(),
                d.anchorSigned(), seq, problem, message, checked, through);
    }

    private static Result fail(String tenant, long from, long to, long n, long seq, String problem, String message) {
        return new Result(false, tenant, from, to, n, 0, 0, false, seq, problem, message);
    }
}
