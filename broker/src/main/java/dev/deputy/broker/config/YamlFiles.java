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
        try {
            T value = YAML.readValue(file.toFile(), type);
            if (value == null) {
                throw new ConfigException(file, 0, "the file is empty");
            }
            return value;
        } catch (UnrecognizedPropertyException e) {
            // Records are built through their constructor, so Jackson reports the end of the mapping:
            // walk back from there to the line that holds the key.
            int line = keyLine(file, String.valueOf(e.getPropertyName()), line(e.getLocation()));
            throw new ConfigException(file, line, "unknown key '" + e.getPropertyName()
                    + "' (known: " + e.getKnownPropertyIds() + ")");
        } catch (ValueInstantiationException e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            throw new ConfigException(file, line(e.getLocation()), cause.getMessage());
        } catch (JsonMappingException e) {
            throw new ConfigException(file, line(e.getLocation()), e.getOriginalMessage() + path(e));
        } catch (JsonProcessingException e) {
            throw new ConfigException(file, line(e.getLocation()), e.getOriginalMessage());
        } catch (IOException e) {
            throw new ConfigException(file, 0, "cannot read: " + e.getMessage());
        }
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

    static int keyLine(Path file, String key, int near) {
        try {
            List<String> lines = Files.readAllLines(file);
            java.util.regex.Pattern p = java.util.regex.Pattern.compile(
                    "^[\\s-]*[\"']?" + java.util.regex.Pattern.quote(key) + "[\"']?\\s*:.*|.*[{,]\\s*" + java.util.regex.Pattern.quote(key) + "\\s*:.*");
            for (int i = Math.min(near, lines.size()); i >= 1; i--) {
                if (p.matcher(lines.get(i - 1)).matches()) {
                    return i;
                }
            }
        } catch (IOException ignored) {
            // fall back to what the parser said
        }
        return near;
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
