package dev.deputy.policy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads a decision input ({@link ToolInput}) from JSON or YAML trees, strictly: unknown keys and wrong types are
 * errors naming the key (fixtures, {@code deputy policy explain}, the dry-run's stored inputs).
 *
 * <pre>
 * subject:   {type: user, id: jonathan.christopher.williams, groups: [finance], attributes: {department: treasury}}
 * actors:    [{id: payments.settlement.reconciler, environment: production}]   # current actor first
 * tool:      transfer_funds
 * server:    https://bank.example.com/mcp
 * arguments: {amount: 25000, currency: EUR}
 * time:      2026-12-07T10:15:00Z
 * source:    10.20.30.40
 * </pre>
 */
public final class ToolInputs {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Set<String> KEYS = Set.of("subject", "actors", "tool", "server", "arguments", "time", "source");

    private ToolInputs() {
    }

    public static ToolInput fromTree(JsonNode n) {
        if (n == null || !n.isObject()) {
            throw new IllegalArgumentException("the input must be an object");
        }
        unknown(n, KEYS, "input");
        JsonNode s = n.get("subject");
        if (s == null || !s.isObject()) {
            throw new IllegalArgumentException("input.subject is required (an object with an id)");
        }
        unknown(s, Set.of("type", "id", "groups", "attributes"), "subject");
        ToolInput.Subject subject = new ToolInput.Subject(text(s, "type"), text(s, "id"),
                new LinkedHashSet<>(strings(s.get("groups"), "subject.groups")), map(s.get("attributes"), "subject.attributes"));
        List<ToolInput.Actor> actors = new ArrayList<>();
        JsonNode a = n.get("actors");
        if (a != null && !a.isNull()) {
            if (!a.isArray()) {
                throw new IllegalArgumentException("actors must be a list (current actor first)");
            }
            for (JsonNode x : a) {
                if (x.isTextual()) {
                    actors.add(new ToolInput.Actor(x.asText(), null));
                } else if (x.isObject()) {
                    unknown(x, Set.of("id", "environment"), "actors[]");
                    actors.add(new ToolInput.Actor(text(x, "id"), text(x, "environment")));
                } else {
                    throw new IllegalArgumentException("actors: each is an id or {id, environment}");
                }
            }
        }
        return new ToolInput(subject, actors, text(n, "tool"), text(n, "server"), map(n.get("arguments"), "arguments"),
                instant(text(n, "time")), text(n, "source"));
    }

    /** RFC 3339 / ISO 8601 with an offset ({@code 2026-12-07T10:15:00Z}, {@code …+01:00}). */
    public static Instant instant(String t) {
        if (t == null) {
            return null;
        }
        try {
            return OffsetDateTime.parse(t).toInstant();
        } catch (DateTimeParseException e) {
            try {
                return Instant.parse(t);
            } catch (DateTimeParseException e2) {
                throw new IllegalArgumentException("time '" + t + "' is not an RFC 3339 date-time with an offset");
            }
        }
    }

    private static void unknown(JsonNode n, Set<String> known, String where) {
        for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!known.contains(k)) {
                throw new IllegalArgumentException(where + ": unknown key '" + k + "' (known: " + new java.util.TreeSet<>(known) + ")");
            }
        }
    }

    private static String text(JsonNode n, String key) {
        JsonNode v = n.get(key);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isValueNode() || v.isBinary()) {
            throw new IllegalArgumentException(key + " must be text");
        }
        return v.asText();
    }

    private static List<String> strings(JsonNode v, String key) {
        List<String> out = new ArrayList<>();
        if (v == null || v.isNull()) {
            return out;
        }
        if (!v.isArray()) {
            throw new IllegalArgumentException(key + " must be a list");
        }
        for (JsonNode x : v) {
            if (!x.isValueNode()) {
                throw new IllegalArgumentException(key + ": each entry is text");
            }
            out.add(x.asText());
        }
        return out;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(JsonNode v, String key) {
        if (v == null || v.isNull()) {
            return Map.of();
        }
        if (!v.isObject()) {
            throw new IllegalArgumentException(key + " must be an object");
        }
        return JSON.convertValue(v, LinkedHashMap.class);
    }
}
