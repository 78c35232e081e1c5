package dev.deputy.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;
import org.yaml.snakeyaml.nodes.Tag;

import java.io.StringReader;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * One YAML file as a JSON tree (for the JSON Schemas) plus the line of every key and list item, taken from
 * SnakeYAML's node marks. Plain scalars are typed the way the broker's reader (Jackson's YAML parser) types them:
 * {@code true}/{@code false} are booleans (not {@code yes}/{@code on}), digits are numbers, {@code null}/{@code ~}
 * are null, everything else (and everything quoted) is a string.
 *
 * @param root   the document as JSON
 * @param keys   JSON pointer → 1-based line of the key (for a list item: of the item)
 * @param starts JSON pointer → 1-based first line of the value (a mapping's first key)
 * @param syntax YAML syntax problems and duplicate keys, each with its line
 */
record YamlDoc(JsonNode root, Map<String, Integer> keys, Map<String, Integer> starts, List<Issue> syntax) {

    record Issue(int line, String message) {
    }

    private static final Pattern INT = Pattern.compile("[-+]?(0|[1-9][0-9_]*)");
    private static final Pattern FLOAT = Pattern.compile("[-+]?([0-9][0-9_]*)?\\.[0-9]+([eE][-+]?[0-9]+)?|[-+]?[0-9]+[eE][-+]?[0-9]+");
    private static final Set<String> TRUE = Set.of("true", "True", "TRUE");
    private static final Set<String> FALSE = Set.of("false", "False", "FALSE");
    private static final Set<String> NULL = Set.of("", "~", "null", "Null", "NULL");

    /** Parses {@code text}; {@code root} is null when the file is empty or not YAML (then {@code syntax} says why). */
    static YamlDoc parse(String text) {
        Map<String, Integer> keys = new HashMap<>();
        Map<String, Integer> starts = new HashMap<>();
        List<Issue> syntax = new ArrayList<>();
        LoaderOptions options = new LoaderOptions();
        options.setAllowDuplicateKeys(true);   // reported below, with both lines
        options.setMaxAliasesForCollections(50);
        options.setCodePointLimit(4 * 1024 * 1024);
        Node node;
        try {
            node = new Yaml(new org.yaml.snakeyaml.constructor.SafeConstructor(options),
                    new org.yaml.snakeyaml.representer.Representer(new DumperOptions()), new DumperOptions(), options)
                    .compose(new StringReader(text));
        } catch (MarkedYAMLException e) {
            int line = e.getProblemMark() != null ? e.getProblemMark().getLine() + 1 : 1;
            String reason = (e.getContext() != null ? e.getContext() + ": " : "") + e.getProblem();
            syntax.add(new Issue(line, "YAML syntax: " + reason));
            return new YamlDoc(null, keys, starts, syntax);
        } catch (YAMLException e) {
            syntax.add(new Issue(1, "YAML syntax: " + String.valueOf(e.getMessage()).lines().findFirst().orElse("")));
            return new YamlDoc(null, keys, starts, syntax);
        }
        if (node == null) {
            return new YamlDoc(null, keys, starts, syntax);
        }
        keys.put("", line(node));
        JsonNode root = convert(node, "", keys, starts, syntax);
        return new YamlDoc(root, keys, starts, syntax);
    }

    private static int line(Node n) {
        return n.getStartMark() == null ? 1 : n.getStartMark().getLine() + 1;
    }

    private static JsonNode convert(Node node, String ptr, Map<String, Integer> keys, Map<String, Integer> starts,
                                    List<Issue> syntax) {
        JsonNodeFactory f = JsonNodeFactory.instance;
        starts.put(ptr, line(node));
        if (node instanceof MappingNode m) {
            ObjectNode o = f.objectNode();
            Set<String> seen = new HashSet<>();
            for (NodeTuple t : m.getValue()) {
                if (!(t.getKeyNode() instanceof ScalarNode k)) {
                    syntax.add(new Issue(line(t.getKeyNode()), "a key must be a plain name, not a list or mapping"));
                    continue;
                }
                String key = k.getValue();
                String child = ptr + "/" + key.replace("~", "~0").replace("/", "~1");
                if (!seen.add(key)) {
                    syntax.add(new Issue(line(k), "duplicate key '" + key + "' (first on line " + keys.get(child) + ")"));
                    continue;
                }
                keys.put(child, line(k));
                o.set(key, convert(t.getValueNode(), child, keys, starts, syntax));
            }
            return o;
        }
        if (node instanceof SequenceNode s) {
            ArrayNode a = f.arrayNode();
            int i = 0;
            for (Node item : s.getValue()) {
                String child = ptr + "/" + i++;
                keys.put(child, line(item));
                a.add(convert(item, child, keys, starts, syntax));
            }
            return a;
        }
        ScalarNode sc = (ScalarNode) node;
        String v = sc.getValue();
        boolean plain = sc.getScalarStyle() == DumperOptions.ScalarStyle.PLAIN;
        if (!plain || Tag.STR.equals(sc.getTag())) {
            return f.textNode(v);
        }
        if (NULL.contains(v)) {
            return f.nullNode();
        }
        if (TRUE.contains(v) || FALSE.contains(v)) {
            return f.booleanNode(TRUE.contains(v));
        }
        if (INT.matcher(v).matches()) {
            BigInteger b = new BigInteger(v.replace("_", ""));
            return b.bitLength() < 64 ? f.numberNode(b.longValue()) : f.numberNode(b);
        }
        if (FLOAT.matcher(v).matches()) {
            return f.numberNode(Double.parseDouble(v.replace("_", "")));
        }
        return f.textNode(v);
    }

    /** The line of the key at {@code pointer}, else of its nearest parent; 1 at worst. */
    int line(String pointer) {
        String p = pointer;
        while (true) {
            Integer l = keys.get(p);
            if (l != null) {
                return l;
            }
            if (p.isEmpty()) {
                return 1;
            }
            p = p.substring(0, Math.max(0, p.lastIndexOf('/')));
        }
    }

    /** The first line of the value at {@code pointer} (a mapping's first key), else {@link #line}. */
    int start(String pointer) {
        Integer l = starts.get(pointer);
        return l != null ? l : line(pointer);
    }
}
