package dev.deputy.broker.governance;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.deputy.policy.ToolInput;
import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The AuthZEN body reader (one streaming pass from the request's bytes into plain values): it gives what a Jackson
 * tree turned into plain values gave, and every hostile body is a {@link AuthzenRequests.Malformed} with a message
 * for the 400, never another exception.
 */
class AuthzenRequestsTest {
    private static final ObjectMapper TREE = new ObjectMapper()
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    private static final Instant NOW = Instant.parse("2026-12-07T10:00:00Z");

    private static Map<String, Object> parse(String json) {
        return AuthzenRequests.parse(json.getBytes(StandardCharsets.UTF_8));
    }

    private static String malformed(byte[] body) {
        return assertThrows(AuthzenRequests.Malformed.class, () -> AuthzenRequests.parse(body)).getMessage();
    }

    private static String malformed(String body) {
        return malformed(body.getBytes(StandardCharsets.UTF_8));
    }

    /** What the reader gave before: Jackson's tree (floats as BigDecimal), then plain values. */
    private static Object viaTree(String json) throws Exception {
        return TREE.convertValue(TREE.readTree(json), Object.class);
    }

    @Test
    void plainValuesAreWhatTheTreeGave() throws Exception {
        String json = """
                {"subject": {"type": "user", "id": "zoë.d'Artagnan", "properties": {"groups": ["finance", "über"],
                  "level": 3, "big": 1099511627776, "huge": 1180591620717411303424, "ratio": 1.50, "zero": 0.0,
                  "neg": -2.5e3, "flag": true, "off": false, "none": null, "nested": {"a": [1, {"b": "\\u00eb\\ud83d\\ude00"}]}}},
                 "action": {"name": "accounts.überweisung.list"},
                 "context": {"arguments": {"amount": 250, "to": "Zoë Müller\\n\\"quoted\\"", "dup": 1, "dup": 2}}}""";
        Map<String, Object> m = parse(json);
        assertEquals(viaTree(json), m);
        @SuppressWarnings("unchecked")
        Map<String, Object> props = (Map<String, Object>) ((Map<String, Object>) m.get("subject")).get("properties");
        assertInstanceOf(Integer.class, props.get("level"));
        assertInstanceOf(Long.class, props.get("big"));
        assertInstanceOf(BigInteger.class, props.get("huge"));
        assertEquals(new BigDecimal("1.5"), props.get("ratio"));
        assertEquals(0, BigDecimal.ZERO.compareTo((BigDecimal) props.get("zero")));
        assertTrue(props.containsKey("none"));
        assertNull(props.get("none"));
        @SuppressWarnings("unchecked")
        Map<String, Object> args = (Map<String, Object>) ((Map<String, Object>) m.get("context")).get("arguments");
        assertEquals(List.of("amount", "to", "dup"), List.copyOf(args.keySet()), "document order, a repeat in its first place");
        assertEquals(2, args.get("dup"), "a repeated member's last value");
        assertEquals("Zoë Müller\n\"quoted\"", args.get("to"));
    }

    @Test
    void randomDocumentsReadAsTheTreeReadThem() throws Exception {
        Random r = new Random(18);
        for (int i = 0; i < 500; i++) {
            StringBuilder b = new StringBuilder();
            b.append('{');
            randomMembers(r, b, 0);
            b.append('}');
            String json = b.toString();
            Map<String, Object> m = parse(json);
            assertEquals(viaTree(json), m, json);
            // the audit's size check counts what toString() would write, without writing it
            assertEquals(m.toString().length(), ToolDecisions.textLength(m, Long.MAX_VALUE), json);
            assertTrue(ToolDecisions.textLength(m, 10) > 10 == m.toString().length() > 10, json);
        }
    }

    private static void randomMembers(Random r, StringBuilder b, int depth) {
        int n = r.nextInt(5);
        for (int i = 0; i < n; i++) {
            if (i > 0) {
                b.append(',');
            }
            b.append('"').append(randomText(r)).append("\":");
            randomValue(r, b, depth + 1);
        }
    }

    private static void randomValue(Random r, StringBuilder b, int depth) {
        switch (depth > 4 ? r.nextInt(6) : r.nextInt(8)) {
            case 0 -> b.append('"').append(randomText(r)).append('"');
            case 1 -> b.append(r.nextInt());
            case 2 -> b.append(r.nextLong());
            case 3 -> b.append(r.nextInt(100000)).append('.').append(r.nextInt(1000)).append(r.nextBoolean() ? "e" + (r.nextInt(20) - 10) : "");
            case 4 -> b.append(r.nextBoolean());
            case 5 -> b.append("null");
            case 6 -> {
                b.append('{');
                randomMembers(r, b, depth);
                b.append('}');
            }
            default -> {
                b.append('[');
                int n = r.nextInt(4);
                for (int i = 0; i < n; i++) {
                    if (i > 0) {
                        b.append(',');
                    }
                    randomValue(r, b, depth + 1);
                }
                b.append(']');
            }
        }
    }

    private static String randomText(Random r) {
        String[] parts = {"a", "ë", "中", "\\u0000", "\\\"", "\\\\", "\\n", ".", "😀", "\\ud83d\\ude00", " ", "x.y.z"};
        StringBuilder s = new StringBuilder();
        int n = r.nextInt(4);
        for (int i = 0; i < n; i++) {
            s.append(parts[r.nextInt(parts.length)]);
        }
        return s.toString();
    }

    @Test
    void hostileBodiesAreMalformedWithAMessage() {
        assertEquals("the request body must be a JSON object", malformed(new byte[0]));
        assertEquals("the request body must be a JSON object", malformed(" \n\t "));
        assertEquals("the request body must be a JSON object", malformed("[]"));
        assertEquals("the request body must be a JSON object", malformed("\"text\""));
        assertEquals("the request body must be a JSON object", malformed("null"));
        assertEquals("the request body is not valid JSON", malformed("not json"));
        assertEquals("the request body is not valid JSON", malformed("{\"a\": 1"));
        assertEquals("the request body is not valid JSON", malformed("{\"a\": 1} {}"), "one value and nothing after it");
        assertEquals("the request body is not valid JSON", malformed("{\"a\": 1}]"));
        assertEquals("the request body is not valid JSON", malformed("{'a': 1}"));
        assertEquals("the request body is not valid JSON", malformed("{\"a\": NaN}"));
        // broken UTF-8 (a lone continuation byte, a sequence cut short) is not JSON (RFC 8259 §8.1)
        assertEquals("the request body is not valid JSON", malformed(new byte[]{'{', '"', 'a', '"', ':', '"', (byte) 0x80, '"', '}'}));
        assertEquals("the request body is not valid JSON", malformed(new byte[]{'{', '"', (byte) 0xE2, '(', (byte) 0xA1, '"', ':', '1', '}'}));
        // nesting past Jackson's read constraint: refused, no stack overflow
        String deep = "{\"a\":" + "[".repeat(5000) + "]".repeat(5000) + "}";
        assertEquals("the request body is not valid JSON", malformed(deep));
        byte[] big = ("{\"a\": \"" + "x".repeat(AuthzenRequests.MAX_BODY) + "\"}").getBytes(StandardCharsets.UTF_8);
        assertEquals("the request body is larger than 256 KiB", malformed(big));
    }

    private static String inputError(String json) {
        Map<String, Object> root = parse(json);
        return assertThrows(AuthzenRequests.Malformed.class, () -> AuthzenRequests.evaluation(root, NOW)).getMessage();
    }

    @Test
    void unicodeLongAndDottedIdentifiers() {
        String id = "jonathan.christopher.williams+zoë@例え.jp";
        ToolInput in = AuthzenRequests.evaluation(parse("""
                {"subject": {"type": "user", "id": "%s", "properties": {"groups": ["fin.ance"], "act": {"sub": "payments.settlement.reconciler", "act": {"sub": "a.b"}}}},
                 "action": {"name": "accounts.überweisung.list"}, "resource": {"type": "mcp_server", "id": "https://bank.example.com/mcp"},
                 "context": {"time": "2026-12-05T23:30:00+01:00", "source_ip": "2001:db8::1"}}""".formatted(id)), NOW);
        assertEquals(id, in.subject().id());
        assertEquals("accounts.überweisung.list", in.tool());
        assertEquals(List.of("payments.settlement.reconciler", "a.b"), in.actors().stream().map(ToolInput.Actor::id).toList());
        assertEquals(Instant.parse("2026-12-05T22:30:00Z"), in.time());
        assertEquals("2001:db8::1", in.source());
        assertEquals(java.util.Set.of("fin.ance"), in.subject().groups());

        String base = "\"action\": {\"name\": \"t\"}, \"resource\": {\"type\": \"s\", \"id\": \"r\"}";
        assertEquals("subject.id is longer than 1024 characters",
                inputError("{\"subject\": {\"type\": \"user\", \"id\": \"" + "é".repeat(1025) + "\"}, " + base + "}"));
        assertEquals("subject.id is required (a non-empty string)",
                inputError("{\"subject\": {\"type\": \"user\", \"id\": 42}, " + base + "}"));
        assertEquals("subject.id is required (a non-empty string)",
                inputError("{\"subject\": {\"type\": \"user\", \"id\": \"\"}, " + base + "}"));
        assertEquals("subject is required (an object with type and id)", inputError("{\"subject\": [1], " + base + "}"));
        assertEquals("action.name is longer than 256 characters", inputError(
                "{\"subject\": {\"type\": \"user\", \"id\": \"u\"}, \"action\": {\"name\": \"" + "a.".repeat(129)
                        + "\"}, \"resource\": {\"type\": \"s\", \"id\": \"r\"}}"));
        String act = "{\"sub\": \"a\"}";
        for (int i = 0; i < 16; i++) {
            act = "{\"sub\": \"a" + i + "\", \"act\": " + act + "}";
        }
        assertEquals("subject.properties.act is nested deeper than 16", inputError(
                "{\"subject\": {\"type\": \"user\", \"id\": \"u\", \"properties\": {\"act\": " + act + "}}, " + base + "}"));
        assertEquals("subject.properties.groups must be an array of strings", inputError(
                "{\"subject\": {\"type\": \"user\", \"id\": \"u\", \"properties\": {\"groups\": [\"a\", 1]}}, " + base + "}"));
        assertEquals("context.time must be an RFC 3339 date-time", inputError(
                "{\"subject\": {\"type\": \"user\", \"id\": \"u\"}, " + base + ", \"context\": {\"time\": 1733561400}}"));
        assertEquals("context.arguments must be an object (the tool arguments)", inputError(
                "{\"subject\": {\"type\": \"user\", \"id\": \"u\"}, " + base + ", \"context\": {\"arguments\": [1]}}"));
        assertEquals("context.source_ip must be an IP address", inputError(
                "{\"subject\": {\"type\": \"user\", \"id\": \"u\"}, " + base + ", \"context\": {\"source_ip\": \"" + "1".repeat(65) + "\"}}"));
    }

    @Test
    void batchDefaultsItemsAndLimits() {
        AuthzenRequests.Batch b = AuthzenRequests.evaluations(parse("""
                {"subject": {"type": "user", "id": "u"}, "action": {"name": "get_balance"},
                 "resource": {"type": "mcp_server", "id": "r"}, "context": {"arguments": {"amount": 1}},
                 "evaluations": [{}, {"action": {"name": "transfer_funds"}, "context": {"approval_token": "tok"}}, 7,
                                 {"subject": {"type": "user"}}, {"context": null}],
                 "options": {"evaluations_semantic": "deny_on_first_deny"}}"""), NOW);
        assertEquals(AuthzenRequests.Semantic.DENY_ON_FIRST_DENY, b.semantic());
        assertEquals(5, b.items().size());
        assertEquals("get_balance", b.items().get(0).input().tool());
        assertEquals(Map.of("amount", 1), b.items().get(0).input().arguments());
        assertEquals("transfer_funds", b.items().get(1).input().tool());
        assertEquals(Map.of(), b.items().get(1).input().arguments(), "an item's context replaces the default whole");
        assertEquals("tok", b.items().get(1).approvalToken());
        assertEquals("each evaluation must be an object", b.items().get(2).error());
        assertEquals("subject.id is required (a non-empty string)", b.items().get(3).error());
        assertEquals(Map.of("amount", 1), b.items().get(4).input().arguments(), "null: the default");

        assertNull(AuthzenRequests.evaluations(parse("""
                {"subject": {"type": "user", "id": "u"}, "action": {"name": "a"}, "resource": {"type": "s", "id": "r"},
                 "evaluations": []}"""), NOW).items());
        StringBuilder many = new StringBuilder("{\"evaluations\": [");
        for (int i = 0; i <= AuthzenRequests.MAX_EVALUATIONS; i++) {
            many.append(i == 0 ? "{}" : ",{}");
        }
        many.append("]}");
        Map<String, Object> root = parse(many.toString());
        assertEquals("at most 100 evaluations per request", assertThrows(AuthzenRequests.Malformed.class,
                () -> AuthzenRequests.evaluations(root, NOW)).getMessage());
        Map<String, Object> badOptions = parse("{\"options\": {\"evaluations_semantic\": 3}, \"evaluations\": [{}]}");
        assertTrue(assertThrows(AuthzenRequests.Malformed.class, () -> AuthzenRequests.evaluations(badOptions, NOW))
                .getMessage().startsWith("options.evaluations_semantic must be"));
        Map<String, Object> notArray = parse("{\"evaluations\": {}}");
        assertEquals("evaluations must be an array", assertThrows(AuthzenRequests.Malformed.class,
                () -> AuthzenRequests.evaluations(notArray, NOW)).getMessage());
    }
}
