package dev.deputy.broker.audit;

import com.fasterxml.jackson.databind.ObjectMapper;

import java.util.LinkedHashMap;
import java.util.Map;

/** The JSON shape of entries and checkpoints (API, JSONL export, SSE): snake_case, every field present. */
public final class AuditJson {
    public static final ObjectMapper MAPPER = new ObjectMapper();

    private AuditJson() {
    }

    public static Map<String, Object> entry(AuditEntry e) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("tenant", e.tenantId());
        m.put("seq", e.seq());
        m.put("time", e.atMs());
        m.put("type", e.type());
        m.put("outcome", e.outcome());
        m.put("subject", e.subject());
        m.put("subject_iss", e.subjectIss());
        m.put("actor", e.actor());
        m.put("actor_chain", e.actorChain());
        m.put("agent_id", e.agentId());
        m.put("client_id", e.clientId());
        m.put("resource", e.resource());
        m.put("scopes", e.scopes());
        m.put("correlation_id", e.correlationId());
        m.put("request_id", e.requestId());
        m.put("source_ip", e.sourceIp());
        m.put("details", e.details());
        m.put("prev_hash", e.prevHash());
        m.put("hash", e.hash());
        m.put("canon", e.canon());
        return m;
    }

    /** The entry exactly as stored (details as its canonical JSON string, so the hash recomputes). */
    public static AuditEntry entry(Map<String, Object> m) {
        int canon = m.get("canon") instanceof Number n ? n.intValue() : AuditEntry.CANON_V1;
        return new AuditEntry(s(m, "tenant"), ((Number) m.get("seq")).longValue(), ((Number) m.get("time")).longValue(),
                s(m, "type"), s(m, "outcome"), s(m, "subject"), s(m, "subject_iss"), s(m, "actor"), s(m, "agent_id"),
                s(m, "client_id"), s(m, "resource"), s(m, "scopes"), s(m, "correlation_id"), s(m, "request_id"),
                s(m, "source_ip"), details(m.get("details"), canon), s(m, "prev_hash"), s(m, "hash"),
                canon); // lines without a version are in the first form (exports and archives made before V90)
    }

    /** The stored details text: as given when a string, else the object put back in the entry's canonical form. */
    @SuppressWarnings("unchecked")
    private static String details(Object d, int canon) {
        if (d == null || d instanceof String) {
            return (String) d;
        }
        if (!(d instanceof Map<?, ?> map)) {
            return d.toString(); // not an object: no hash will match, verification reports the entry edited
        }
        if (canon == AuditEntry.CANON_V1) {
            return AuditEntry.canonicalJson((Map<String, Object>) map);
        }
        try {
            return AuditEntry.jcs(MAPPER.writeValueAsString(map));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalArgumentException(e);
        }
    }

    /** An entry line of the JSONL export: {@code type: entry}, the event type under {@code event_type}. */
    public static Map<String, Object> exportLine(AuditEntry e) {
        Map<String, Object> m = entry(e);
        m.remove("actor_chain");
        Object eventType = m.remove("type");
        Map<String, Object> l = new LinkedHashMap<>();
        l.put("type", "entry");
        l.put("event_type", eventType);
        l.putAll(m);
        return l;
    }

    public static AuditEntry fromExportLine(Map<String, Object> l) {
        Map<String, Object> m = new LinkedHashMap<>(l);
        m.put("type", l.get("event_type"));
        return entry(m);
    }

    public static Map<String, Object> checkpoint(AuditCheckpoint c) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("tenant", c.tenantId());
        m.put("seq", c.seq());
        m.put("head", c.headHash());
        m.put("time", c.atMs());
        m.put("kid", c.kid());
        m.put("public_jwk", c.publicJwk());
        m.put("jws", c.jws());
        return m;
    }

    public static AuditCheckpoint checkpoint(Map<String, Object> m) {
        return new AuditCheckpoint(s(m, "tenant"), ((Number) m.get("seq")).longValue(), s(m, "head"),
                ((Number) m.get("time")).longValue(), s(m, "kid"), s(m, "public_jwk"), s(m, "jws"));
    }

    private static String s(Map<String, Object> m, String k) {
        Object v = m.get(k);
        return v == null ? null : v.toString();
    }
}
