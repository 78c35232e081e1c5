package dev.deputy.broker.audit;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

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
 * and its own hash = SHA-256(prev_hash "|" canonical encoding).
 *
 * <p>The canonical encoding is a JSON array of the fields in a fixed order, with {@code details} as
 * canonical JSON (keys sorted at every level). The sequence number itself is not hashed: position in the
 * chain is what the links prove, which lets the verifier tell a reordered entry from an edited one.
 */
public record AuditEntry(String tenantId, long seq, long atMs, String type, String outcome, String subject,
                         String subjectIss, String actor, String agentId, String clientId, String resource,
                         String scopes, String correlationId, String requestId, String sourceIp, String details,
                         String prevHash, String hash) {

    public static final String GENESIS = "0".repeat(64);

    /** A chain position: the seq of the last entry and its hash. */
    public record Head(long seq, String hash) {
    }
    private static final ObjectMapper CANONICAL = new ObjectMapper()
            .configure(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS, true)
            .configure(JsonGenerator.Feature.ESCAPE_NON_ASCII, true);

    /** Seals an event at a position of the chain. */
    public static AuditEntry seal(AuditEvent e, long seq, long atMs, String prevHash) {
        String actor = e.actorChain().isEmpty() ? null : String.join(" > ", e.actorChain());
        String details = e.details().isEmpty() ? null : canonicalJson(e.details());
        AuditEntry unsealed = new AuditEntry(e.tenantId(), seq, atMs, e.type(), e.outcome().name().toLowerCase(),
                e.subject(), e.subjectIss(), actor, e.agentId(), e.clientId(), e.resource(), e.scopes(),
                e.correlationId(), e.requestId(), e.sourceIp(), details, prevHash, null);
        return unsealed.withHash(unsealed.computeHash());
    }

    private AuditEntry withHash(String h) {
        return new AuditEntry(tenantId, seq, atMs, type, outcome, subject, subjectIss, actor, agentId, clientId, resource,
                scopes, correlationId, requestId, sourceIp, details, prevHash, h);
    }

    /** The hash this entry should have given its content and its recorded predecessor. */
    public String computeHash() {
        return sha256Hex(prevHash + "|" + canonical());
    }

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
        MessageDigest md = SHA256.get(); // digest() resets it
        return HEX.formatHex(md.digest(s.getBytes(StandardCharsets.UTF_8)));
    }
}
