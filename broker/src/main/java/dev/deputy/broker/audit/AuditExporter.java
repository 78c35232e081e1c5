package dev.deputy.broker.audit;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.nimbusds.jose.jwk.JWK;
import jakarta.inject.Singleton;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Exports a range of a tenant's chain.
 * <ul>
 *   <li>{@code jsonl}: a {@code header} line, one {@code entry} line per entry (with prev_hash/hash), the
 *       {@code checkpoint} lines that sign the range, and a {@code keys} line with the public JWK of every
 *       checkpoint signer. The range is extended to the next signed checkpoint (a fresh one is made when the
 *       range reaches the head), so every exported entry is covered by a signature. Checkpoints made after
 *       the range by keys not seen inside it are added too: they endorse retired keys (see
 *       {@link CheckpointVerifier}). {@link OfflineVerifier} checks the file against a JWKS alone.</li>
 *   <li>{@code ocsf}: one OCSF event per line, for a SIEM (no verification material).</li>
 * </ul>
 */
@Singleton
public class AuditExporter {
    public static final String FORMAT = "deputy-audit-export/1";
    private static final String VERSION = Optional.ofNullable(AuditExporter.class.getPackage().getImplementationVersion())
            .orElse("0.1.0");

    private final AuditStore store;
    private final AuditLog log;
    private final AuditCheckpoints checkpoints;

    public AuditExporter(AuditStore store, AuditLog log, AuditCheckpoints checkpoints) {
        this.store = store;
        this.log = log;
        this.checkpoints = checkpoints;
    }

    /** The range [from, to] actually exported, after extension to a signed checkpoint. */
    public record Range(long from, long to, AuditCheckpoint closing) {
    }

    public Range range(String tenantId, long from, Long to, boolean sign) {
        long start = Math.max(1, from);
        AuditEntry.Head head = log.head(tenantId);
        long end = to == null ? head.seq() : Math.min(to, head.seq());
        AuditCheckpoint closing = null;
        if (sign && end > 0) {
            Optional<AuditCheckpoint> next = store.checkpointAtOrAfter(tenantId, end);
            if (next.isPresent()) {
                closing = next.get();
            } else if (checkpoints != null) {
                try {
                    closing = checkpoints.checkpoint(tenantId).orElse(null);
                } catch (AuditWitness.ChainRefused refused) {
                    // a refused chain is never signed again: export it as it stands, as evidence (the verifiers
                    // then report its unsigned tail and, given the witness, the cut or rewrite)
                    closing = null;
                }
            }
            if (closing != null) {
                end = closing.seq();
            }
        }
        return new Range(start, end, closing);
    }

    public Range exportJsonl(String tenantId, long from, Long to, OutputStream out) {
        Range r = range(tenantId, from, to, true);
        ObjectWriter w = AuditJson.MAPPER.writer().without(JsonGenerator.Feature.AUTO_CLOSE_TARGET);
        try {
            Map<String, Object> header = new LinkedHashMap<>();
            header.put("type", "header");
            header.put("format", FORMAT);
            header.put("tenant", tenantId);
            header.put("from", r.from());
            header.put("to", r.to());
            // the range runs to the chain's head as the database had it: a witnessed head beyond it is a cut
            header.put("through_head", to == null);
            header.put("exported_at", System.currentTimeMillis());
            List<AuditEntry> before = r.from() > 1 ? store.range(tenantId, r.from() - 1, 1) : List.of();
            header.put("anchor_hash", r.from() == 1 ? AuditEntry.GENESIS
                    : before.isEmpty() || before.get(0).seq() != r.from() - 1 ? null : before.get(0).hash());
            line(w, out, header);
            store.scan(tenantId, r.from(), r.to(), e -> {
                Map<String, Object> l = AuditJson.exportLine(e);
                line(w, out, l);
                return true;
            });
            List<AuditCheckpoint> cps = new ArrayList<>(store.checkpoints(tenantId, r.from() - 1, r.to(), Integer.MAX_VALUE));
            // later checkpoints, first per new key: they endorse the keys that signed the range
            java.util.Set<String> kids = new java.util.HashSet<>();
            cps.forEach(c -> kids.add(c.kid()));
            for (AuditCheckpoint c : store.checkpoints(tenantId, r.to() + 1, Long.MAX_VALUE, Integer.MAX_VALUE)) {
                if (kids.add(c.kid())) {
                    cps.add(c);
                }
            }
            Map<String, Object> keys = new LinkedHashMap<>();
            for (AuditCheckpoint c : cps) {
                Map<String, Object> l = new LinkedHashMap<>();
                l.put("type", "checkpoint");
                l.putAll(AuditJson.checkpoint(c));
                line(w, out, l);
                keys.put(c.kid(), JWK.parse(c.publicJwk()).toJSONObject());
            }
            Map<String, Object> k = new LinkedHashMap<>();
            k.put("type", "keys");
            k.put("note", "public keys of the checkpoint signers; candidates only: trust comes from the tenant JWKS");
            k.put("keys", new ArrayList<>(keys.values()));
            line(w, out, k);
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (java.text.ParseException e) {
            throw new IllegalStateException(e);
        }
        return r;
    }

    public Range exportOcsf(String tenantId, long from, Long to, OutputStream out) {
        Range r = range(tenantId, from, to, false);
        ObjectWriter w = AuditJson.MAPPER.writer().without(JsonGenerator.Feature.AUTO_CLOSE_TARGET);
        store.scan(tenantId, r.from(), r.to(), e -> {
            line(w, out, OcsfMapper.map(e, VERSION));
            return true;
        });
        try {
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return r;
    }

    private static void line(ObjectWriter w, OutputStream out, Object value) {
        try {
            w.writeValue(out, value);
            out.write('\n');
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
