package dev.deputy.broker.audit;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.io.IOException;
import java.util.Map;

/**
 * An entry as the admin API serves it ({@code GET …/audit/entries}, the SSE stream): every documented field, in
 * the documented order, {@code null} when unset, {@code actor_chain} as a list ({@code []} when nobody acted
 * through an agent), {@code time} as an ISO-8601 instant (UTC) and {@code details} as a JSON object (parsed from the canonical string the hash covers;
 * {@code null} when the event had none). Serialised by {@link #json} with nulls kept: the framework's default
 * mapper leaves out nulls and empty lists.
 */
public final class AuditEntryView {
    private static final ObjectMapper MAPPER = new ObjectMapper().disable(SerializationFeature.FAIL_ON_EMPTY_BEANS);

    private AuditEntryView() {
    }

    public static Map<String, Object> of(AuditEntry e) {
        // the stored shape (every field, in order), with details parsed from the canonical string the hash covers
        Map<String, Object> m = AuditJson.entry(e);
        m.put("details", details(e.details()));
        m.put("time", java.time.Instant.ofEpochMilli(e.atMs()).toString()); // the API's times are ISO-8601 (the export keeps ms)
        return m;
    }

    /** The stored details string as a JSON value (an object for every entry Deputy writes). */
    static Object details(String stored) {
        if (stored == null) {
            return null;
        }
        try {
            return MAPPER.readValue(stored, Object.class);
        } catch (IOException e) {
            return stored; // not JSON (a hand-edited row): served as it is stored; verify reports the edit
        }
    }

    /** JSON text with every null kept. */
    public static String json(Object value) {
        try {
            return MAPPER.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
