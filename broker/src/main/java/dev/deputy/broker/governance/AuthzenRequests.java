package dev.deputy.broker.governance;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.deputy.policy.ToolInput;
import dev.deputy.policy.ToolInputs;

import java.io.IOException;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.ArrayList;
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
 *
 * <p>The body is read once, from its bytes, by Jackson's streaming parser straight into plain values (objects as
 * {@link LinkedHashMap} in document order, a repeated member's last value in its first place, arrays as lists,
 * integers as Integer/Long/BigInteger by size, fractions as BigDecimal without trailing zeros — what a Jackson tree
 * and {@code convertValue} gave), with no tree and no copy of it: {@code arguments} and the subject's attributes are
 * the parsed maps themselves.
 */
final class AuthzenRequests {
    /**
     * The decision endpoints' JSON factory (request bodies here, answers in {@link ToolDecisions}). Jackson's default
     * buffer recycling keeps a parser's and a generator's buffers (8 KB and more) per thread; every request runs on a
     * fresh virtual thread, so each one allocated and zeroed its own. A bounded pool shared by all threads hands them
     * back and forth instead.
     */
    static final JsonFactory JSON = JsonFactory.builder()
            .recyclerPool(com.fasterxml.jackson.core.util.JsonRecyclerPools.newBoundedPool(256)).build();
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

    /** The request body (UTF-8 JSON, as received) as a plain map: its members in document order. */
    static Map<String, Object> parse(byte[] body) {
        if (body == null || blank(body)) {
            throw new Malformed("the request body must be a JSON object");
        }
        if (body.length > MAX_BODY) {
            throw new Malformed("the request body is larger than " + MAX_BODY / 1024 + " KiB");
        }
        Object root;
        try (JsonParser p = JSON.createParser(body)) {
            JsonToken first = p.nextToken();
            root = first == null ? null : value(p, first);
            if (p.nextToken() != null) { // one JSON value and nothing after it
                throw new Malformed("the request body is not valid JSON");
            }
        } catch (IOException | RuntimeException e) {
            if (e instanceof Malformed m) {
                throw m;
            }
            // a syntax error, broken UTF-8, a nesting or length past Jackson's read constraints
            throw new Malformed("the request body is not valid JSON");
        }
        if (!(root instanceof Map<?, ?>)) {
            throw new Malformed("the request body must be a JSON object");
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> m = (Map<String, Object>) root;
        return m;
    }

    /** The same for a body already decoded to text (tests, callers that hold a String). */
    static Map<String, Object> parse(String body) {
        if (body != null && body.length() > MAX_BODY) {
            throw new Malformed("the request body is larger than " + MAX_BODY / 1024 + " KiB");
        }
        return parse(body == null ? null : body.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    private static boolean blank(byte[] b) {
        for (byte x : b) {
            if (x != ' ' && x != '\t' && x != '\n' && x != '\r') {
                return false;
            }
        }
        return true;
    }

    /** The JSON value starting at {@code t} as a plain value; the parser ends on its last token. */
    private static Object value(JsonParser p, JsonToken t) throws IOException {
        switch (t) {
            case START_OBJECT: {
                Map<String, Object> m = new LinkedHashMap<>();
                for (JsonToken k = p.nextToken(); k != JsonToken.END_OBJECT; k = p.nextToken()) {
                    String name = p.currentName();
                    m.put(name, value(p, p.nextToken()));
                }
                return m;
            }
            case START_ARRAY: {
                List<Object> l = new ArrayList<>();
                for (JsonToken x = p.nextToken(); x != JsonToken.END_ARRAY; x = p.nextToken()) {
                    l.add(value(p, x));
                }
                return l;
            }
            case VALUE_STRING:
                return p.getText();
            case VALUE_NUMBER_INT:
                return p.getNumberValue(); // Integer, Long or BigInteger by size
            case VALUE_NUMBER_FLOAT: {
                BigDecimal d = p.getDecimalValue();
                // as Jackson's tree reader gives it (JsonNodeFeature.STRIP_TRAILING_BIGDECIMAL_ZEROES, its default)
                return d.signum() == 0 ? BigDecimal.ZERO : d.stripTrailingZeros();
            }
            case VALUE_TRUE:
                return Boolean.TRUE;
            case VALUE_FALSE:
                return Boolean.FALSE;
            case VALUE_NULL:
                return null;
            default:
                throw new Malformed("the request body is not valid JSON");
        }
    }

    /** {@code POST /access/v1/evaluation}. */
    static ToolInput evaluation(Map<String, Object> root, Instant now) {
        return input(root.get("subject"), root.get("action"), root.get("resource"), root.get("context"), now);
    }

    /**
     * {@code POST /access/v1/evaluations}: top-level {@code subject}, {@code action}, {@code resource} and
     * {@code context} are defaults that an item's own member replaces whole (AuthZEN §7.1.1); without
     * {@code evaluations} (or with an empty list) the request is one evaluation of the defaults.
     */
    static Batch evaluations(Map<String, Object> root, Instant now) {
        Semantic semantic = Semantic.EXECUTE_ALL;
        Object options = root.get("options");
        if (options != null) {
            if (!(options instanceof Map<?, ?> o)) {
                throw new Malformed("options must be an object");
            }
            Object s = o.get("evaluations_semantic");
            if (s != null) {
                semantic = switch (s instanceof String str ? str : "") {
                    case "execute_all" -> Semantic.EXECUTE_ALL;
                    case "deny_on_first_deny" -> Semantic.DENY_ON_FIRST_DENY;
                    case "permit_on_first_permit" -> Semantic.PERMIT_ON_FIRST_PERMIT;
                    default -> throw new Malformed(
                            "options.evaluations_semantic must be execute_all, deny_on_first_deny or permit_on_first_permit");
                };
            }
        }
        Object evaluations = root.get("evaluations");
        if (evaluations == null || evaluations instanceof List<?> empty && empty.isEmpty()) {
            return new Batch(null, semantic, evaluation(root, now));
        }
        if (!(evaluations instanceof List<?> list)) {
            throw new Malformed("evaluations must be an array");
        }
        if (list.size() > MAX_EVALUATIONS) {
            throw new Malformed("at most " + MAX_EVALUATIONS + " evaluations per request");
        }
        List<Item> items = new ArrayList<>(list.size());
        for (Object e : list) {
            if (!(e instanceof Map<?, ?> item)) {
                items.add(new Item(null, "each evaluation must be an object"));
                continue;
            }
            try {
                Object context = member(item, root, "context");
                items.add(new Item(input(member(item, root, "subject"), member(item, root, "action"),
                        member(item, root, "resource"), context, now), null, approvalToken(context)));
            } catch (Malformed m) {
                items.add(new Item(null, m.getMessage()));
            }
        }
        return new Batch(items, semantic, null);
    }

    private static Object member(Map<?, ?> item, Map<String, Object> root, String name) {
        Object own = item.get(name);
        return own != null ? own : root.get(name);
    }

    static ToolInput input(Object subjectValue, Object actionValue, Object resourceValue, Object contextValue,
                           Instant now) {
        if (!(subjectValue instanceof Map<?, ?> subject)) {
            throw new Malformed("subject is required (an object with type and id)");
        }
        String type = text(subject, "type", "subject.type", 64);
        String id = text(subject, "id", "subject.id", 1024);
        if (!(actionValue instanceof Map<?, ?> action)) {
            throw new Malformed("action is required (an object with name: the MCP tool)");
        }
        String tool = text(action, "name", "action.name", 256);
        if (!(resourceValue instanceof Map<?, ?> resource)) {
            throw new Malformed("resource is required (an object with type and id: the MCP server)");
        }
        text(resource, "type", "resource.type", 256);
        String server = text(resource, "id", "resource.id", 2048);
        Set<String> groups = Set.of();
        Map<String, Object> attributes = Map.of();
        List<ToolInput.Actor> actors = List.of();
        Object propsValue = subject.get("properties");
        if (propsValue != null) {
            if (!(propsValue instanceof Map<?, ?> props)) {
                throw new Malformed("subject.properties must be an object");
            }
            Object g = props.get("groups");
            if (g != null) {
                if (!(g instanceof List<?> gl)) {
                    throw new Malformed("subject.properties.groups must be an array of strings");
                }
                groups = new LinkedHashSet<>();
                for (Object x : gl) {
                    if (!(x instanceof String name)) {
                        throw new Malformed("subject.properties.groups must be an array of strings");
                    }
                    groups.add(name);
                }
            }
            Object act = props.get("act");
            if (act != null) {
                actors = new ArrayList<>(2);
            }
            while (act != null) {
                if (!(act instanceof Map<?, ?> a) || !(a.get("sub") instanceof String sub) || sub.isEmpty()) {
                    throw new Malformed("subject.properties.act must be {sub: <agent id>, act: {...}} as in RFC 8693");
                }
                if (actors.size() >= MAX_ACT_DEPTH) {
                    throw new Malformed("subject.properties.act is nested deeper than " + MAX_ACT_DEPTH);
                }
                actors.add(new ToolInput.Actor(sub, null));
                act = a.get("act");
            }
            for (Map.Entry<?, ?> f : props.entrySet()) {
                if (!RESERVED_PROPERTIES.contains((String) f.getKey())) {
                    if (attributes.isEmpty()) {
                        attributes = new LinkedHashMap<>();
                    }
                    attributes.put((String) f.getKey(), f.getValue());
                }
            }
        }
        Map<String, Object> arguments = Map.of();
        Instant time = now;
        String source = null;
        if (contextValue != null) {
            if (!(contextValue instanceof Map<?, ?> context)) {
                throw new Malformed("context must be an object");
            }
            Object a = context.get("arguments");
            if (a != null) {
                if (!(a instanceof Map<?, ?>)) {
                    throw new Malformed("context.arguments must be an object (the tool arguments)");
                }
                @SuppressWarnings("unchecked")
                Map<String, Object> args = (Map<String, Object>) a;
                arguments = args;
            }
            Object t = context.get("time");
            if (t != null) {
                try {
                    time = ToolInputs.instant(t instanceof String ts ? ts : "-");
                } catch (IllegalArgumentException e) {
                    throw new Malformed("context.time must be an RFC 3339 date-time");
                }
            }
            Object s = context.get("source_ip");
            if (s != null) {
                if (!(s instanceof String ip) || ip.length() > 64) {
                    throw new Malformed("context.source_ip must be an IP address");
                }
                source = ip;
            }
        }
        return new ToolInput(new ToolInput.Subject(type, id, groups, attributes), actors, tool, server, arguments, time,
                source);
    }

    /**
     * {@code context.approval_token}: the transaction-bound access token of an approved CIBA request
     * (docs/governance.md, Human approval); null when absent.
     */
    static String approvalToken(Object context) {
        if (!(context instanceof Map<?, ?> c)) {
            return null;
        }
        Object t = c.get("approval_token");
        if (t == null) {
            return null;
        }
        if (!(t instanceof String token) || token.isEmpty() || token.length() > 16384) {
            throw new Malformed("context.approval_token must be a token (a non-empty string)");
        }
        return token;
    }

    private static String text(Map<?, ?> n, String key, String name, int max) {
        if (!(n.get(key) instanceof String v) || v.isEmpty()) {
            throw new Malformed(name + " is required (a non-empty string)");
        }
        if (v.length() > max) {
            throw new Malformed(name + " is longer than " + max + " characters");
        }
        return v;
    }
}
