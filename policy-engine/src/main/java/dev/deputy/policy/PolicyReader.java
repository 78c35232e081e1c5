package dev.deputy.policy;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.exc.ValueInstantiationException;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Reads the {@code tools:} sections of policy files without the broker (the CLI's offline commands, the dry-run's
 * proposed files): the same strict rules as the broker's loader (unknown keys, wrong types and failed checks are
 * errors with the file and line). Top-level keys other than {@code tools} ({@code delegation},
 * {@code max_chain_depth}) are the broker's and are not read here.
 */
public final class PolicyReader {
    private static final Set<String> TOP = Set.of("tools", "delegation", "max_chain_depth");
    public static final ObjectMapper YAML = configure(new ObjectMapper(new YAMLFactory()));

    private PolicyReader() {
    }

    /** The strict settings of the broker's config reader (snake_case keys, unknown keys are errors). */
    public static ObjectMapper configure(ObjectMapper m) {
        return m.setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
                .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
                .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
                .configure(MapperFeature.ACCEPT_CASE_INSENSITIVE_ENUMS, true);
    }

    /** The policy of a policy file, or of the {@code *.yml} / {@code *.yaml} files of a folder (in name order). */
    public static ToolPolicy read(Path fileOrDir) {
        Map<String, String> texts = new LinkedHashMap<>();
        for (Path p : files(fileOrDir)) {
            try {
                texts.put(p.toString(), Files.readString(p));
            } catch (IOException e) {
                throw new PolicyException(p.toString(), 0, "cannot read: " + e.getMessage());
            }
        }
        return compile(texts);
    }

    /** Files named → their YAML text (e.g. a proposed change sent to the dry-run), compiled into one policy. */
    public static ToolPolicy compile(Map<String, String> files) {
        List<ToolsSection> sections = new ArrayList<>();
        String last = "policy";
        for (Map.Entry<String, String> f : files.entrySet()) {
            last = f.getKey();
            ToolsSection s = section(f.getKey(), f.getValue());
            if (s != null) {
                sections.add(s);
            }
        }
        try {
            return ToolPolicy.of(sections);
        } catch (IllegalArgumentException e) {
            throw new PolicyException(files.size() == 1 ? last : "policies", 0, e.getMessage());
        }
    }

    /** The {@code tools:} section of one file (null when it has none). */
    public static ToolsSection section(String name, String text) {
        JsonNode root;
        try {
            root = YAML.readTree(text);
        } catch (JsonProcessingException e) {
            throw new PolicyException(name, line(e.getLocation()), e.getOriginalMessage().lines().findFirst().orElse(""));
        }
        if (root == null || root.isMissingNode() || root.isNull()) {
            return null;
        }
        if (!root.isObject()) {
            throw new PolicyException(name, 1, "a policy file is a mapping (tools:, delegation:, max_chain_depth:)");
        }
        for (Iterator<String> it = root.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!TOP.contains(k)) {
                throw new PolicyException(name, keyLine(text, k), "unknown key '" + k + "' (known: " + TOP + ")");
            }
        }
        JsonNode tools = root.get("tools");
        if (tools == null || tools.isNull()) {
            return null;
        }
        try {
            // re-parse the section's own text so that errors keep their line numbers
            return YAML.readerFor(ToolsSection.class).readValue(YAML.treeAsTokens(tools));
        } catch (UnrecognizedPropertyException e) {
            int at = keyLine(text, String.valueOf(e.getPropertyName()));
            throw new PolicyException(name, at > 0 ? at : Math.max(keyLine(text, "tools"), 1), "unknown key '"
                    + e.getPropertyName() + "' (known: " + e.getKnownPropertyIds() + ")");
        } catch (ValueInstantiationException e) {
            String reason = e.getCause() != null ? e.getCause().getMessage() : e.getOriginalMessage();
            throw new PolicyException(name, ruleLine(text, reason), reason);
        } catch (JsonMappingException e) {
            throw new PolicyException(name, Math.max(keyLine(text, "tools"), 1), e.getOriginalMessage() + path(e));
        } catch (IOException e) {
            throw new PolicyException(name, 0, e.getMessage());
        }
    }

    private static List<Path> files(Path p) {
        if (Files.isRegularFile(p)) {
            return List.of(p);
        }
        if (!Files.isDirectory(p)) {
            throw new PolicyException(p.toString(), 0, "no such file or folder");
        }
        try (Stream<Path> s = Files.list(p)) {
            return s.filter(f -> Files.isRegularFile(f) && (f.toString().endsWith(".yml") || f.toString().endsWith(".yaml")))
                    .sorted().toList();
        } catch (IOException e) {
            throw new PolicyException(p.toString(), 0, "cannot list: " + e.getMessage());
        }
    }

    /** The first line holding {@code key:}; 0 if none. */
    static int keyLine(String text, String key) {
        List<String> lines = text.lines().toList();
        String k = key + ":";
        for (int i = 0; i < lines.size(); i++) {
            String l = lines.get(i).strip();
            if (l.startsWith(k) || l.startsWith("- " + k)) {
                return i + 1;
            }
        }
        return 0;
    }

    private static final java.util.regex.Pattern RULE = java.util.regex.Pattern.compile("^rule ([A-Za-z0-9._-]+)[:,]");

    /** A rule's check names the rule ("rule big-transfer: ..."): the line of its id; 0 if not found. */
    private static int ruleLine(String text, String reason) {
        var m = reason == null ? null : RULE.matcher(reason);
        if (m == null || !m.find()) {
            return 0;
        }
        // block style (- id: r) or flow style ({id: r, ...}); else the tools: key, so that the line is never unknown
        var idLine = java.util.regex.Pattern.compile("(^|[\\s{,-])id:\\s*['\"]?" + java.util.regex.Pattern.quote(m.group(1))
                + "['\"]?\\s*([,}#]|$)");
        List<String> lines = text.lines().toList();
        for (int i = 0; i < lines.size(); i++) {
            if (idLine.matcher(lines.get(i)).find()) {
                return i + 1;
            }
        }
        return Math.max(keyLine(text, "tools"), 1);
    }

    private static int line(JsonLocation loc) {
        return loc == null ? 0 : loc.getLineNr();
    }

    private static String path(JsonMappingException e) {
        StringBuilder sb = new StringBuilder();
        for (JsonMappingException.Reference r : e.getPath()) {
            if (r.getFieldName() != null) {
                sb.append(sb.isEmpty() ? "" : ".").append(r.getFieldName());
            } else {
                sb.append('[').append(r.getIndex()).append(']');
            }
        }
        return sb.isEmpty() ? "" : " (at tools." + sb + ")";
    }
}
