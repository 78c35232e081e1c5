package dev.deputy.cli;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Small helpers for request bodies and loosely typed answers. */
final class Lists {
    private Lists() {
    }

    static void put(Map<String, Object> m, String k, Object v) {
        if (v != null) {
            m.put(k, v);
        }
    }

    /** Repeated and comma/space-separated values as one list. */
    static List<String> split(List<String> values) {
        List<String> out = new ArrayList<>();
        if (values != null) {
            for (String v : values) {
                for (String s : v.split("[,\\s]+")) {
                    if (!s.isEmpty()) {
                        out.add(s);
                    }
                }
            }
        }
        return out;
    }

    static Map<String, Object> keyValues(List<String> pairs) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (String p : pairs) {
            int eq = p.indexOf('=');
            if (eq <= 0) {
                throw CliException.usage("--metadata takes key=value, not '" + p + "'");
            }
            m.put(p.substring(0, eq), p.substring(eq + 1));
        }
        return m;
    }

    @SuppressWarnings("unchecked")
    static List<Map<String, Object>> maps(Object o) {
        List<Map<String, Object>> out = new ArrayList<>();
        if (o instanceof List<?> l) {
            for (Object x : l) {
                if (x instanceof Map<?, ?> m) {
                    out.add((Map<String, Object>) m);
                }
            }
        }
        return out;
    }

    static List<String> strings(Object o) {
        return o instanceof List<?> l ? l.stream().map(String::valueOf).toList() : List.of();
    }

    /** A member by its snake_case name, or its camelCase twin (the consents API is moving to snake_case). */
    static Object member(Map<String, Object> m, String snake) {
        if (m.containsKey(snake)) {
            return m.get(snake);
        }
        StringBuilder camel = new StringBuilder();
        boolean up = false;
        for (char c : snake.toCharArray()) {
            if (c == '_') {
                up = true;
            } else {
                camel.append(up ? Character.toUpperCase(c) : c);
                up = false;
            }
        }
        return m.get(camel.toString());
    }
}
