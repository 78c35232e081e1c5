package dev.deputy.broker.metrics;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.yaml.snakeyaml.Yaml;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The shipped Grafana dashboard and Prometheus alert rules: their PromQL expressions and the series they use. */
final class OpsFiles {
    private static final Pattern LABEL_VALUES = Pattern.compile("label_values\\(\\s*([a-zA-Z_:][a-zA-Z0-9_:]*)");
    private static final Pattern IDENT = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");
    private static final Set<String> KEYWORDS = Set.of("by", "without", "on", "ignoring", "group_left", "group_right",
            "offset", "bool", "and", "or", "unless", "inf", "nan");

    private OpsFiles() {
    }

    static Path repo() {
        for (Path p : new Path[]{Path.of(".."), Path.of(".")}) {
            if (Files.isDirectory(p.resolve("deploy/grafana"))) {
                return p.toAbsolutePath().normalize();
            }
        }
        throw new IllegalStateException("cannot find deploy/ from " + Path.of("").toAbsolutePath());
    }

    static Path dashboard() {
        return repo().resolve("deploy/grafana/deputy.json");
    }

    static Path alerts() {
        return repo().resolve("deploy/prometheus/alerts.yml");
    }

    /** Every PromQL expression of the dashboard's panels. */
    static List<String> dashboardExprs() {
        try {
            JsonNode d = new ObjectMapper().readTree(dashboard().toFile());
            List<String> out = new ArrayList<>();
            for (JsonNode p : d.get("panels")) {
                for (JsonNode t : p.get("targets")) {
                    out.add(t.get("expr").asText());
                }
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The metrics the dashboard's template variables query ({@code label_values(metric, label)}). */
    static List<String> dashboardVariableMetrics() {
        try {
            JsonNode d = new ObjectMapper().readTree(dashboard().toFile());
            List<String> out = new ArrayList<>();
            for (JsonNode v : d.get("templating").get("list")) {
                Matcher m = LABEL_VALUES.matcher(v.get("query").asText());
                assertTrue(m.find(), "variable " + v.get("name") + " queries label_values(metric, label)");
                out.add(m.group(1));
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The alert rules, checked for the structure Prometheus expects; returns alert name → expression. */
    @SuppressWarnings("unchecked")
    static Map<String, String> alertExprs() {
        try {
            Object doc = new Yaml().load(Files.readString(alerts()));
            Map<String, Object> root = (Map<String, Object>) assertInstanceOf(Map.class, doc);
            assertEquals(Set.of("groups"), root.keySet());
            Map<String, String> out = new java.util.LinkedHashMap<>();
            for (Object g : (List<Object>) root.get("groups")) {
                Map<String, Object> group = (Map<String, Object>) g;
                assertNotNull(group.get("name"));
                for (Object r : (List<Object>) group.get("rules")) {
                    Map<String, Object> rule = (Map<String, Object>) r;
                    String alert = (String) rule.get("alert");
                    assertNotNull(alert, "every rule is an alert: " + rule);
                    assertTrue(alert.matches("[A-Za-z][A-Za-z0-9_]*"), alert);
                    assertFalse(out.containsKey(alert), "alert named twice: " + alert);
                    assertTrue(Set.of("alert", "expr", "for", "labels", "annotations").containsAll(rule.keySet()), alert + ": " + rule.keySet());
                    if (rule.get("for") != null) {
                        assertTrue(rule.get("for").toString().matches("[0-9]+[smh]"), alert + " for: " + rule.get("for"));
                    }
                    Map<String, Object> labels = (Map<String, Object>) rule.get("labels");
                    assertTrue(Set.of("critical", "warning").contains(labels.get("severity")), alert + " severity");
                    assertNotNull(((Map<String, Object>) rule.get("annotations")).get("summary"), alert + " summary");
                    out.put(alert, rule.get("expr").toString());
                }
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The metric names a PromQL expression selects (functions, keywords, labels, grouping and ranges left out). */
    static Set<String> metricNames(String expr) {
        String s = expr.replaceAll("\"(?:[^\"\\\\]|\\\\.)*\"", "\"\"")   // string literals
                .replaceAll("\\{[^}]*}", " ")                                  // label matchers
                .replaceAll("\\[[^]]*]", " ")                                  // ranges
                .replaceAll("\\b(by|without|on|ignoring|group_left|group_right)\\s*\\([^)]*\\)", " ")
                .replaceAll("\\boffset\\s+[0-9]+[smhdwy]", " ");
        Set<String> out = new TreeSet<>();
        Matcher m = IDENT.matcher(s);
        while (m.find()) {
            String name = m.group();
            int after = m.end();
            while (after < s.length() && Character.isWhitespace(s.charAt(after))) {
                after++;
            }
            boolean function = after < s.length() && s.charAt(after) == '(';
            boolean number = m.start() > 0 && (Character.isDigit(s.charAt(m.start() - 1)) || s.charAt(m.start() - 1) == '.');
            if (!function && !number && !KEYWORDS.contains(name.toLowerCase())) {
                out.add(name);
            }
        }
        return out;
    }

    /** Every series used by the dashboard and the alert rules exists in the scrape. */
    static void assertAllExist(Scrape scrape) {
        Set<String> used = new TreeSet<>(dashboardVariableMetrics());
        for (String e : dashboardExprs()) {
            used.addAll(metricNames(e));
        }
        for (String e : alertExprs().values()) {
            used.addAll(metricNames(e));
        }
        assertTrue(used.size() >= 15, "found the series: " + used);
        Set<String> missing = new TreeSet<>(used);
        missing.removeAll(scrape.names());
        assertEquals(Set.of(), missing, "series used by deploy/grafana/deputy.json or deploy/prometheus/alerts.yml "
                + "but absent from a scrape");
    }
}
