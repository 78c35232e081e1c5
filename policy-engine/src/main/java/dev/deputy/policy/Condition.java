package dev.deputy.policy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A condition on the tool arguments, written {@code <argument> <operator> <value>} and compiled once at load:
 * <pre>
 *   amount > 10000            >, >=, <, <=  numbers (a numeric string argument counts as its number)
 *   currency == EUR           ==, !=        equality (numbers numerically, else as text)
 *   currency in [EUR, USD]    in, not in    one of a list
 *   payee.iban starts_with DE               text prefix
 *   memo exists               exists, not exists
 * </pre>
 * The argument is a name, or a dotted path into nested objects ({@code payee.iban}); a name that itself contains a
 * dot is found first. Values are YAML scalars or flow lists ({@code "EUR"}, {@code EUR}, {@code 10000},
 * {@code [a, b]}).
 */
final class Condition extends Check {
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    private static final Pattern FORM = Pattern.compile(
            "^\\s*([\\p{L}\\p{N}_][\\p{L}\\p{N}_.\\-]*)\\s*(==|!=|>=|<=|>|<|\\s(?:not\\s+in|in|starts_with|not\\s+exists|exists)(?=\\s|$))\\s*(.*?)\\s*$");
    private static final Pattern NUMERIC = Pattern.compile("^[+-]?(\\d{1,30}(\\.\\d{0,30})?|\\.\\d{1,30})([eE][+-]?\\d{1,4})?$");

    private enum Op { EQ, NE, GT, GE, LT, LE, IN, NOT_IN, STARTS_WITH, EXISTS, NOT_EXISTS }

    private final String path;
    private final Op op;
    private final Object value;          // String, BigDecimal, Boolean
    private final List<Object> values;   // in / not in

    private Condition(String text, String path, Op op, Object value, List<Object> values) {
        super("arguments." + path, text.strip());
        this.path = path;
        this.op = op;
        this.value = value;
        this.values = values;
    }

    static Condition parse(String text, String ruleId) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("rule " + ruleId + ": empty condition in when");
        }
        if (text.length() > 1000) {
            throw new IllegalArgumentException("rule " + ruleId + ": condition longer than 1000 characters");
        }
        Matcher m = FORM.matcher(text);
        if (!m.matches()) {
            throw new IllegalArgumentException("rule " + ruleId + ": cannot read condition '" + text
                    + "' (write <argument> <op> <value>; ops: == != > >= < <= in, not in, starts_with, exists, not exists)");
        }
        String path = m.group(1);
        String opText = m.group(2).strip().replaceAll("\\s+", " ");
        String rest = m.group(3);
        Op op = switch (opText) {
            case "==" -> Op.EQ;
            case "!=" -> Op.NE;
            case ">" -> Op.GT;
            case ">=" -> Op.GE;
            case "<" -> Op.LT;
            case "<=" -> Op.LE;
            case "in" -> Op.IN;
            case "not in" -> Op.NOT_IN;
            case "starts_with" -> Op.STARTS_WITH;
            case "exists" -> Op.EXISTS;
            default -> Op.NOT_EXISTS;
        };
        String where = "rule " + ruleId + ", condition '" + text.strip() + "': ";
        if (op == Op.EXISTS || op == Op.NOT_EXISTS) {
            if (!rest.isEmpty()) {
                throw new IllegalArgumentException(where + opText + " takes no value");
            }
            return new Condition(text, path, op, null, null);
        }
        if (rest.isEmpty()) {
            throw new IllegalArgumentException(where + "a value is missing after " + opText);
        }
        Object parsed;
        try {
            parsed = YAML.readValue(rest, Object.class);
        } catch (Exception e) {
            throw new IllegalArgumentException(where + "cannot read the value " + rest);
        }
        switch (op) {
            case IN, NOT_IN -> {
                if (!(parsed instanceof List<?> list) || list.isEmpty()) {
                    throw new IllegalArgumentException(where + opText + " needs a non-empty list, e.g. [EUR, USD]");
                }
                List<Object> vs = new ArrayList<>();
                for (Object o : list) {
                    vs.add(scalar(o, where));
                }
                return new Condition(text, path, op, null, List.copyOf(vs));
            }
            case GT, GE, LT, LE -> {
                Object s = scalar(parsed, where);
                if (!(s instanceof BigDecimal)) {
                    throw new IllegalArgumentException(where + opText + " compares numbers: " + rest + " is not one");
                }
                return new Condition(text, path, op, s, null);
            }
            case STARTS_WITH -> {
                Object s = scalar(parsed, where);
                if (!(s instanceof String)) {
                    throw new IllegalArgumentException(where + "starts_with needs text");
                }
                return new Condition(text, path, op, s, null);
            }
            default -> {
                return new Condition(text, path, op, scalar(parsed, where), null);
            }
        }
    }

    private static Object scalar(Object o, String where) {
        if (o instanceof String s) {
            return s;
        }
        if (o instanceof Boolean b) {
            return b;
        }
        if (o instanceof Number n) {
            return new BigDecimal(n.toString());
        }
        throw new IllegalArgumentException(where + "values are text, numbers or true/false (got " + o + ")");
    }

    @Override
    Object read(ToolInput in) {
        return lookup(in.arguments(), path, 0);
    }

    /** {@code payee.iban}: the key itself first (names may contain dots), else the first segment, then the rest. */
    static Object lookup(Map<String, Object> args, String path, int depth) {
        if (args == null || depth > 16) {
            return null;
        }
        if (args.containsKey(path)) {
            return args.get(path);
        }
        int dot = path.indexOf('.');
        while (dot > 0) {
            Object head = args.get(path.substring(0, dot));
            if (head instanceof Map<?, ?> m) {
                @SuppressWarnings("unchecked")
                Map<String, Object> sub = (Map<String, Object>) m;
                Object v = lookup(sub, path.substring(dot + 1), depth + 1);
                if (v != null) {
                    return v;
                }
            }
            dot = path.indexOf('.', dot + 1);
        }
        return null;
    }

    @Override
    Outcome test(Object actual, ToolInput in) {
        switch (op) {
            case EXISTS:
                return actual != null ? Outcome.MATCH : Outcome.NO_MATCH;
            case NOT_EXISTS:
                return actual == null ? Outcome.MATCH : Outcome.NO_MATCH;
            default:
                break;
        }
        if (actual == null || actual instanceof Map || actual instanceof List) {
            return Outcome.UNDETERMINED;
        }
        switch (op) {
            case GT, GE, LT, LE: {
                BigDecimal n = number(actual);
                if (n == null) {
                    return Outcome.UNDETERMINED;
                }
                int c = n.compareTo((BigDecimal) value);
                boolean ok = switch (op) {
                    case GT -> c > 0;
                    case GE -> c >= 0;
                    case LT -> c < 0;
                    default -> c <= 0;
                };
                return ok ? Outcome.MATCH : Outcome.NO_MATCH;
            }
            case EQ:
                return equal(actual, value) ? Outcome.MATCH : Outcome.NO_MATCH;
            case NE:
                return equal(actual, value) ? Outcome.NO_MATCH : Outcome.MATCH;
            case IN:
            case NOT_IN: {
                boolean found = false;
                for (Object v : values) {
                    if (equal(actual, v)) {
                        found = true;
                        break;
                    }
                }
                return found == (op == Op.IN) ? Outcome.MATCH : Outcome.NO_MATCH;
            }
            case STARTS_WITH:
                if (!(actual instanceof String s)) {
                    return Outcome.UNDETERMINED;
                }
                return s.startsWith((String) value) ? Outcome.MATCH : Outcome.NO_MATCH;
            default:
                return Outcome.UNDETERMINED;
        }
    }

    private static boolean equal(Object actual, Object expected) {
        if (expected instanceof BigDecimal e) {
            BigDecimal n = number(actual);
            return n != null && n.compareTo(e) == 0;
        }
        if (expected instanceof Boolean b) {
            return actual instanceof Boolean a ? a.equals(b) : String.valueOf(actual).equals(b.toString());
        }
        return actual instanceof String s ? s.equals(expected) : String.valueOf(actual).equals(expected);
    }

    /** A number, or a string holding one (bounded: no 10,000-digit strings); NaN and infinities are not numbers. */
    static BigDecimal number(Object o) {
        if (o instanceof BigDecimal b) {
            return b;
        }
        if (o instanceof Integer || o instanceof Long || o instanceof Short || o instanceof Byte) {
            return BigDecimal.valueOf(((Number) o).longValue());
        }
        if (o instanceof Double || o instanceof Float) {
            double d = ((Number) o).doubleValue();
            return Double.isFinite(d) ? BigDecimal.valueOf(d) : null;
        }
        if (o instanceof Number n) {
            try {
                return new BigDecimal(n.toString());
            } catch (NumberFormatException e) {
                return null;
            }
        }
        if (o instanceof String s && s.length() <= 70 && NUMERIC.matcher(s.strip()).matches()) {
            return new BigDecimal(s.strip());
        }
        return null;
    }
}
