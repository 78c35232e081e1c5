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
 * <pre>java -cp deputy-broker.jar dev.deputy.broker.audit.OfflineVerifier export.jsonl jwks.json</pre>
 * Exit status 0 when the range verifies, 1 when it does not, 2 on bad usage.
 */
public final class OfflineVerifier {
    private OfflineVerifier() {
    }

    public record Result(boolean ok, String tenant, long from, long to, long entries, long signedThrough,
                         int checkpointsVerified, boolean anchorSigned, Long firstBadSeq, String problem, String message) {
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
            if (!ok) {
                m.put("first_bad_seq", firstBadSeq);
                m.put("problem", problem);
                m.put("message", message);
            }
            return m;
        }
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            System.err.println("usage: OfflineVerifier <export.jsonl> <jwks.json>");
            System.exit(2);
        }
        Result r = verify(Path.of(args[0]), Files.readString(Path.of(args[1])));
        System.out.println(AuditJson.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(r.toMap()));
        System.exit(r.ok() ? 0 : 1);
    }

    public static Result verify(Path export, String jwksJson) throws IOException {
        try (Reader r = Files.newBufferedReader(export, StandardCharsets.UTF_8)) {
            return verify(r, jwksJson);
        }
    }

    public static Result verify(Reader in, String jwksJson) throws IOException {
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
                    } else if (!e.hash().equals(e.computeHash())) {
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
        if (signedThrough < last) {
            return new Result(false, tenant, from, to, count, signedThrough, cr.verified(), anchorSigned, signedThrough + 1,
                    "unsigned", "entries " + (signedThrough + 1) + ".." + last + " are not covered by a signed checkpoint");
        }
        return new Result(true, tenant, from, to, count, signedThrough, cr.verified(), anchorSigned, null, null, null);
    }

    private static Result fail(String tenant, long from, long to, long n, long seq, String problem, String message) {
        return new Result(false, tenant, from, to, n, 0, 0, false, seq, problem, message);
    }
}
