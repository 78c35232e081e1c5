package dev.deputy.broker.config;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.exc.ValueInstantiationException;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Reads operator YAML files into records, strictly: unknown keys, wrong types and failed checks in a
 * record's constructor are reported with the file, the line and the reason.
 */
public final class YamlFiles {
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory())
            .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .configure(com.fasterxml.jackson.databind.MapperFeature.ACCEPT_CASE_INSENSITIVE_ENUMS, true)
            .registerModule(new SimpleModule().addDeserializer(Duration.class, new DurationDeserializer()));

    private YamlFiles() {
    }

    public static ObjectMapper mapper() {
        return YAML;
    }

    public static <T> T read(Path file, Class<T> type) {
        String text;
        try {
            text = Files.readString(file);
        } catch (IOException e) {
            throw new ConfigException(file, 0, "cannot read: " + e.getMessage());
        }
        return parse(file, text, type);
    }

    /**
     * {@link #read} of a text that is not (yet) a file, e.g. a proposed policy file sent to the dry-run: the same
     * strict checks, errors naming {@code file} and the line.
     */
    public static <T> T parse(Path file, String text, Class<T> type) {
        if (text.lines().map(String::strip).allMatch(l -> l.isEmpty() || l.startsWith("#") || l.equals("---"))) {
            throw new ConfigException(file, 0, "the file is empty");
        }
        try {
            T value = YAML.readValue(text, type);
            if (value == null) {
                throw new ConfigException(file, 0, "the file is empty");
            }
            return value;
        } catch (UnrecognizedPropertyException e) {
            // Jackson reports record properties at the end of the mapping: find the key's own line
            int at = line(text, keys(e), e.getLocation());
            // inside a list item the path stops at the list: look for the key itself between the list and the
            // end of the mapping Jackson reported
            int exact = lastKeyLine(text, String.valueOf(e.getPropertyName()), at, line(e.getLocation()));
            throw new ConfigException(file, exact > 0 ? exact : at, unknownKey(String.valueOf(e.getPropertyName()),
                    e.getKnownPropertyIds() == null ? List.of() : e.getKnownPropertyIds().stream().map(String::valueOf).toList()));
        } catch (ValueInstantiationException e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            String reason = cause.getMessage();
            throw new ConfigException(file, instantiationLine(text, keys(e), reason), reason);
        } catch (JsonMappingException e) {
            throw new ConfigException(file, line(text, keys(e), e.getLocation()), plain(e) + path(e));
        } catch (JsonProcessingException e) {
            if (e.getCause() instanceof org.yaml.snakeyaml.error.MarkedYAMLException m && m.getProblemMark() != null) {
                // YAML syntax: the problem's own position, and a one-line reason
                String reason = (m.getContext() != null ? m.getContext() + ": " : "") + m.getProblem();
                throw new ConfigException(file, m.getProblemMark().getLine() + 1, reason);
            }
            throw new ConfigException(file, line(e.getLocation()), e.getOriginalMessage().lines().findFirst().orElse(""));
        }
    }

    /**
     * {@code unknown key 'colur' (did you mean 'colour'?)}: the nearest known key when one is close (a typo), else the
     * known keys.
     */
    public static String unknownKey(String key, java.util.Collection<String> known) {
        String best = dev.deputy.policy.NearestName.nearest(key, known); // one rule with `deputy validate`
        if (best != null) {
            return "unknown key '" + key + "' (did you mean '" + best + "'?)";
        }
        return "unknown key '" + key + "'" + (known.isEmpty() ? "" : " (known keys: "
                + String.join(", ", known.stream().sorted().toList()) + ")");
    }

    /**
     * A mapping error in the operator's words: what the key wanted and what the file gave, never a Java type
     * ({@code Cannot deserialize value of type `java.util.ArrayList<…>` from String value} becomes
     * {@code expected a list, not a string}).
     */
    static String plain(JsonMappingException e) {
        String m = e.getOriginalMessage() == null ? "" : e.getOriginalMessage();
        if (e instanceof com.fasterxml.jackson.databind.exc.InvalidFormatException f) {
            Class<?> t = f.getTargetType();
            if (t != null && t.isEnum()) {
                return "'" + f.getValue() + "' is not " + wanted(t);
            }
            // our own deserializers' reason (not a duration: '5 minutes' (use e.g. …)) follows Jackson's preamble
            int i = m.indexOf("\": ");
            String rest = i > 0 ? m.substring(i + 3).lines().findFirst().orElse("").strip() : "";
            if (!rest.isEmpty() && !rest.contains("java.") && !rest.contains("`")) {
                return rest;
            }
            return "'" + f.getValue() + "' is not " + wanted(t);
        }
        if (e instanceof com.fasterxml.jackson.databind.exc.MismatchedInputException mi && mi.getTargetType() != null) {
            String found = m.contains("from Array value") || m.contains("START_ARRAY") ? "a list"
                    : m.contains("from Object value") || m.contains("START_OBJECT") ? "a mapping"
                    : m.contains("from String") || m.contains("VALUE_STRING") ? "a string"
                    : m.contains("from Integer") || m.contains("from Floating-point") || m.contains("VALUE_NUMBER") ? "a number"
                    : m.contains("from Boolean") || m.contains("VALUE_TRUE") || m.contains("VALUE_FALSE") ? "true/false"
                    : m.contains("from Null") || m.contains("VALUE_NULL") ? "nothing" : null;
            return "expected " + wanted(mi.getTargetType()) + (found != null ? ", not " + found : "");
        }
        String first = m.lines().findFirst().orElse("").replaceAll("`[^`]*`", "value").replaceAll("\\bjava\\.[\\w.$]+", "value");
        return first.isEmpty() ? "not valid here" : first;
    }

    private static String wanted(Class<?> t) {
        if (t == null) {
            return "another kind of value";
        }
        if (java.util.Collection.class.isAssignableFrom(t) || t.isArray()) {
            return "a list";
        }
        if (java.util.Map.class.isAssignableFrom(t) || t.isRecord()) {
            return "a mapping (key: value)";
        }
        if (t == String.class) {
            return "a string";
        }
        if (t == Boolean.class || t == boolean.class) {
            return "true or false";
        }
        if (Number.class.isAssignableFrom(t) || (t.isPrimitive() && t != boolean.class)) {
            return "a whole number";
        }
        if (t == Duration.class) {
            return "a duration (e.g. 300s, 5m, 24h or 30d)";
        }
        if (t == Limit.class) {
            return "a rate such as 300/1m, or off";
        }
        if (t.isEnum()) {
            return "one of " + java.util.Arrays.stream(t.getEnumConstants()).map(c -> c.toString().toLowerCase(java.util.Locale.ROOT)).toList();
        }
        return "another kind of value";
    }

    /** The last line in [from, to] (1-based) that holds {@code key:} (also as {@code - key:}); 0 if none. */
    static int lastKeyLine(String text, String key, int from, int to) {
        List<String> lines = text.lines().toList();
        java.util.regex.Pattern p = java.util.regex.Pattern.compile(
                "^[\\s-]*(['\"]?)" + java.util.regex.Pattern.quote(key) + "\\1\\s*:(\\s|$).*|.*[{,]\\s*" + java.util.regex.Pattern.quote(key) + "\\s*:.*");
        int found = 0;
        for (int i = Math.max(1, from); i <= Math.min(to, lines.size()); i++) {
            if (p.matcher(lines.get(i - 1)).matches()) {
                found = i;
            }
        }
        return found;
    }

    private static final java.util.regex.Pattern SNAKE_KEY = java.util.regex.Pattern.compile("\\b[a-z]+(?:_[a-z]+)+\\b");

    /** A record constructor's check names the key it is about: its line, else the mapping's, else 1. */
    private static int instantiationLine(String text, List<String> mapping, String reason) {
        if (reason != null) {
            var m = SNAKE_KEY.matcher(reason);
            while (m.find()) {
                List<String> key = new ArrayList<>(mapping);
                key.add(m.group());
                int l = keyLine(text, key);
                if (l > 0) {
                    return l;
                }
            }
        }
        int l = mapping.isEmpty() ? 0 : keyLine(text, mapping);
        return l > 0 ? l : 1;
    }

    private static List<String> keys(JsonMappingException e) {
        List<String> keys = new ArrayList<>();
        for (JsonMappingException.Reference r : e.getPath()) {
            if (r.getFieldName() == null) {
                return keys;   // inside a list: the keys up to it
            }
            keys.add(r.getFieldName());
        }
        return keys;
    }

    private static int line(String text, List<String> keys, JsonLocation fallback) {
        int l = keys.isEmpty() ? 0 : keyLine(text, keys);
        return l > 0 ? l : line(fallback);
    }

    /** The 1-based line of a nested block-style key ({@code a:} then, indented below it, {@code b:}); 0 if not found. */
    public static int keyLine(String text, List<String> keys) {
        List<String> lines = text.lines().toList();
        int from = 0;
        int parentIndent = -1;
        int found = 0;
        for (String key : keys) {
            java.util.regex.Pattern p = java.util.regex.Pattern.compile("^(\\s*)(['\"]?)" + java.util.regex.Pattern.quote(key) + "\\2\\s*:(\\s|$)");
            found = 0;
            for (int i = from; i < lines.size(); i++) {
                String line = lines.get(i);
                int indent = line.length() - line.stripLeading().length();
                if (!line.isBlank() && !line.stripLeading().startsWith("#") && indent <= parentIndent) {
                    break;   // left the parent mapping
                }
                var m = p.matcher(line);
                if (m.find() && m.group(1).length() > parentIndent) {
                    found = i + 1;
                    from = i + 1;
                    parentIndent = m.group(1).length();
                    break;
                }
            }
            if (found == 0) {
                return 0;
            }
        }
        return found;
    }

    /** The {@code *.yml} and {@code *.yaml} files directly inside a folder, sorted by name; none if it is absent. */
    public static List<Path> list(Path dir) {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(dir)) {
            return new ArrayList<>(s.filter(p -> Files.isRegularFile(p)
                            && (p.toString().endsWith(".yml") || p.toString().endsWith(".yaml")))
                    .sorted().toList());
        } catch (IOException e) {
            throw new ConfigException(dir, 0, "cannot list: " + e.getMessage());
        }
    }

    private static int line(JsonLocation loc) {
        return loc == null ? 0 : loc.getLineNr();
    }

    private static String path(JsonMappingException e) {
        if (e.getPath() == null || e.getPath().isEmpty()) {
            return "";
        }
        StringBuilder sb = new StringBuilder(" (at ");
        for (JsonMappingException.Reference r : e.getPath()) {
            if (r.getFieldName() != null) {
                if (sb.length() > 5) sb.append('.');
                sb.append(r.getFieldName());
            } else {
                sb.append('[').append(r.getIndex()).append(']');
            }
        }
        return sb.append(')').toString();
    }
}
