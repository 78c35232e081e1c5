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
            throw new ConfigException(file, exact > 0 ? exact : at, "unknown key '" + e.getPropertyName()
                    + "' (known: " + e.getKnownPropertyIds() + ")");
        } catch (ValueInstantiationException e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            String reason = cause.getMessage();
            throw new ConfigException(file, instantiationLine(text, keys(e), reason), reason);
        } catch (JsonMappingException e) {
            throw new ConfigException(file, line(text, keys(e), e.getLocation()), e.getOriginalMessage() + path(e));
        } catch (JsonProcessingException e) {
            if (e.getCause() instanceof org.yaml.snakeyaml.error.MarkedYAMLException m && m.getProblemMark() != null) {
                // YAML syntax: the problem's own position, and a one-line reason
                String reason = (m.getContext() != null ? m.getContext() + ": " : "") + m.getProblem();
                throw new ConfigException(file, m.getProblemMark().getLine() + 1, reason);
            }
            throw new ConfigException(file, line(e.getLocation()), e.getOriginalMessage().lines().findFirst().orElse(""));
        }
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
    static int keyLine(String text, List<String> keys) {
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
