package dev.deputy.broker.governance;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.deputy.policy.ToolInput;
import dev.deputy.policy.ToolInputs;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * OpenID AuthZEN Authorization API 1.0 request bodies, read into decision inputs ({@link ToolInput}).
 * <ul>
 *   <li>{@code subject} {type, id, properties}: the user's upstream {@code sub} (type {@code user}) or an agent acting
 *       alone (type {@code agent}); {@code properties.groups} are its groups, {@code properties.act} the actor chain in
 *       the token's own shape (RFC 8693 §4.1: {@code {"sub": B, "act": {"sub": A}}}), any other property is an
 *       attribute from the upstream IdP ({@code department}, {@code country}, …);</li>
 *   <li>{@code action} {name}: the MCP tool;</li>
 *   <li>{@code resource} {type, id}: the MCP server (its resource URI or id);</li>
 *   <li>{@code context}: {@code arguments} (the tool arguments), {@code time} (RFC 3339; default: now),
 *       {@code source_ip} (the caller's address as the MCP server saw it).</li>
 * </ul>
 * A missing required member is a {@link Malformed} (400, AuthZEN §"Error Responses"); unknown members are ignored
 * (AuthZEN: receivers MUST ignore unknown fields).
 */
final class AuthzenRequests {
    static final ObjectMapper JSON = new ObjectMapper()
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    static final int MAX_EVALUATIONS = 100;
    static final int MAX_BODY = 256 * 1024;
    private static final int MAX_ACT_DEPTH = 16;
    private static final Set<String> RESERVED_PROPERTIES = Set.of("groups", "act");

    private AuthzenRequests() {
    }

    /** A request the PDP cannot read: 400 with this message. */
    static final class Malformed extends RuntimeException {
        Malformed(String message) {
            super(message, null, false, false);
        }
    }

    /** The batch semantics of AuthZEN §7.1.2. */
    enum Semantic { EXECUTE_ALL, DENY_ON_FIRST_DENY, PERMIT_ON_FIRST_PERMIT }

    /**
     * One evaluation of a batch: its input and approval token, or why it could not be read (answered in place,
     * AuthZEN §7.2.1).
     */
    record Item(ToolInput input, String error, String approvalToken) {
        Item(ToolInput input, String error) {
            this(input, error, null);
        }
    }

    /** A batch: items (null = no {@code evaluations}: answer as a single evaluation) and the semantics. */
    record Batch(List<Item> items, Semantic semantic, ToolInput single) {
    }

    static JsonNode parse(String body) {
        if (body == null || body.isBlank()) {
            throw new Malformed("the request body must be a JSON object");
        }
        if (body.length() > MAX_BODY) {
            throw new Malformed("the request body is larger than " + MAX_BODY / 1024 + " KiB");
        }
        JsonNode n;
        try {
            n = JSON.readTree(body);
        } catch (Exception e) {
            throw new Malformed("the request body is not valid JSON");
        }
        if (n == null || !n.isObject()) {
            throw new Malformed("the request body must be a JSON object");
        }
        return n;
    }

    /** {@code POST /access/v1/evaluation}. */
    static ToolInput evaluation(JsonNode root, Instant now) {
        return input(root.get("subject"), root.get("action"), root.get("resource"), root.get("context"), now);
    }

    /**
     * {@code POST /access/v1/evaluations}: top-level {@code subject}, {@code action}, {@code resource} and
     * {@code context} are defaults that an item's own member replaces whole (AuthZEN §7.1.1); without
     * {@code evaluations} (or with an empty list) the request is one evaluation of the defaults.
     */
    static Batch evaluations(JsonNode root, Instant now) {
        Semantic semantic = Semantic.EXECUTE_ALL;
        JsonNode options = root.get("options");
        if (options != null && !options.isNull()) {
            if (!options.isObject()) {
                throw new Malformed("options must be an object");
            }
            JsonNode s = options.get("evaluations_semantic");
            if (s != null && !s.isNull()) {
                semantic = switch (s.isTextual() ? s.asText() : "") {
                    case "execute_all" -> Semantic.EXECUTE_ALL;
                    case "deny_on_first_deny" -> Semantic.DENY_ON_FIRST_DENY;
                    case "permit_on_first_permit" -> Semantic.PERMIT_ON_FIRST_PERMIT;
                    default -> throw new Malformed(
                            "options.evaluations_semantic must be execute_all, deny_on_first_deny or permit_on_first_permit");
                };
            }
        }
        JsonNode evaluations = root.get("evaluations");
        if (evaluations == null || evaluations.isNull() || evaluations.isArray() && evaluations.isEmpty()) {
            return new Batch(null, semantic, evaluation(root, now));
        }
        if (!evaluations.isArray()) {
            throw new Malformed("evaluations must be an array");
        }
        if (evaluations.size() > MAX_EVALUATIONS) {
            throw new Malformed("at most " + MAX_EVALUATIONS + " evaluations per request");
        }
        List<Item> items = new ArrayList<>(evaluations.size());
        for (JsonNode e : evaluations) {
            if (!e.isObject()) {
                items.add(new Item(null, "each evaluation must be an object"));
                continue;
            }
            try {
                JsonNode context = member(e, root, "context");
                items.add(new Item(input(member(e, root, "subject"), member(e, root, "action"), member(e, root, "resource"),
                        context, now), null, approvalToken(context)));
            } catch (Malformed m) {
                items.add(new Item(null, m.getMessage()));
            }
        }
        return new Batch(items, semantic, null);
    }

    private static JsonNode member(JsonNode item, JsonNode root, String name) {
        JsonNode own = item.get(name);
        return own != null && !own.isNull() ? own : root.get(name);
    }

    static ToolInput input(JsonNode subject, JsonNode action, JsonNode resource, JsonNode context, Instant now) {
        if (subject == null || !subject.isObject()) {
            throw new Malformed("subject is required (an object with type and id)");
        }
        String type = text(subject, "type", "subject.type", 64);
        String id = text(subject, "id", "subject.id", 1024);
        if (action == null || !action.isObject()) {
            throw new Malformed("action is required (an object with name: the MCP tool)");
        }
        String tool = text(action, "name", "action.name", 256);
        if (resource == null || !resource.isObject()) {
            throw new Malformed("resource is required (an object with type and id: the MCP server)");
        }
        text(resource, "type", "resource.type", 256);
        String server = text(resource, "id", "resource.id", 2048);
        Set<String> groups = new LinkedHashSet<>();
        Map<String, Object> attributes = new LinkedHashMap<>();
        List<ToolInput.Actor> actors = new ArrayList<>();
        JsonNode props = subject.get("properties");
        if (props != null && !props.isNull()) {
            if (!props.isObject()) {
                throw new Malformed("subject.properties must be an object");
            }
            JsonNode g = props.get("groups");
            if (g != null && !g.isNull()) {
                if (!g.isArray()) {
                    throw new Malformed("subject.properties.groups must be an array of strings");
                }
                for (JsonNode x : g) {
                    if (!x.isTextual()) {
                        throw new Malformed("subject.properties.groups must be an array of strings");
                    }
                    groups.add(x.asText());
                }
            }
            JsonNode act = props.get("act");
            while (act != null && !act.isNull()) {
                if (!act.isObject() || !act.path("sub").isTextual() || act.path("sub").asText().isEmpty()) {
                    throw new Malformed("subject.properties.act must be {sub: <agent id>, act: {...}} as in RFC 8693");
                }
                if (actors.size() >= MAX_ACT_DEPTH) {
                    throw new Malformed("subject.properties.act is nested deeper than " + MAX_ACT_DEPTH);
                }
                actors.add(new ToolInput.Actor(act.get("sub").asText(), null));
                act = act.get("act");
            }
            for (Iterator<Map.Entry<String, JsonNode>> it = props.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> f = it.next();
                if (!RESERVED_PROPERTIES.contains(f.getKey())) {
                    attributes.put(f.getKey(), plain(f.getValue()));
                }
            }
        }
        Map<String, Object> arguments = Map.of();
        Instant time = now;
        String source = null;
        if (context != null && !context.isNull()) {
            if (!context.isObject()) {
                throw new Malformed("context must be an object");
            }
            JsonNode a = context.get("arguments");
            if (a != null && !a.isNull()) {
                if (!a.isObject()) {
                    throw new Malformed("context.arguments must be an object (the tool arguments)");
                }
                arguments = object(a);
            }
            JsonNode t = context.get("time");
            if (t != null && !t.isNull()) {
                try {
                    time = ToolInputs.instant(t.isTextual() ? t.asText() : "-");
                } catch (IllegalArgumentException e) {
                    throw new Malformed("context.time must be an RFC 3339 date-time");
                }
            }
            JsonNode s = context.get("source_ip");
            if (s != null && !s.isNull()) {
                if (!s.isTextual() || s.asText().length() > 64) {
                    throw new Malformed("context.source_ip must be an IP address");
                }
                source = s.asText();
            }
        }
        return new ToolInput(new ToolInput.Subject(type, id, groups, attributes), actors, tool, server, arguments, time,
                source);
    }

    /**
     * {@code context.approval_token}: the transaction-bound access token of an approved CIBA request
     * (docs/governance.md, Human approval); null when absent.
     */
    static String approvalToken(JsonNode context) {
        if (context == null || !context.isObject()) {
            return null;
        }
        JsonNode t = context.get("approval_token");
        if (t == null || t.isNull()) {
            return null;
        }
        if (!t.isTextual() || t.asText().isEmpty() || t.asText().length() > 16384) {
            throw new Malformed("context.approval_token must be a token (a non-empty string)");
        }
        return t.asText();
    }

    private static String text(JsonNode n, String key, String name, int max) {
        JsonNode v = n.get(key);
        if (v == null || !v.isTextual() || v.asText().isEmpty()) {
            throw new Malformed(name + " is required (a non-empty string)");
        }
        if (v.asText().length() > max) {
            throw new Malformed(name + " is longer than " + max + " characters");
        }
        return v.asText();
    }

    /**
     * A JSON value as plain Java values — what {@code JSON.convertValue(node, Object.class)} gives (objects as
     * {@link LinkedHashMap} in document order, arrays as lists, integers as Integer/Long/BigInteger by size, fractions
     * as BigDecimal), read from the tree directly instead of through a token buffer.
     */
    static Object plain(JsonNode n) {
        if (n == null || n.isNull() || n.isMissingNode()) {
            return null;
        }
        if (n.isTextual()) {
            return n.textValue();
        }
        if (n.isObject()) {
            return object(n);
        }
        if (n.isArray()) {
            List<Object> out = new ArrayList<>(n.size());
            for (JsonNode x : n) {
                out.add(plain(x));
            }
            return out;
        }
        if (n.isBoolean()) {
            return n.booleanValue();
        }
        if (n.isNumber()) {
            return n.numberValue();
        }
        return JSON.convertValue(n, Object.class); // binary or embedded values: never from a parsed body
    }

    private static Map<String, Object> object(JsonNode n) {
        Map<String, Object> out = new LinkedHashMap<>(Math.max(4, n.size() * 2));
        for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> f = it.next();
            out.put(f.getKey(), plain(f.getValue()));
        }
        return out;
    }

    static ObjectNode object() {
        return JSON.createObjectNode();
    }
}
