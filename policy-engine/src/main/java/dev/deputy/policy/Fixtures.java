package dev.deputy.policy;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Policy fixtures: files of cases, each a decision input and the decision expected of it, run offline against policy
 * files ({@code deputy policy test}). A fixture file:
 * <pre>
 * policies: ../policies          # the policy file or folder, relative to this file (--policies overrides)
 * cases:
 *   - name: a large transfer needs approval
 *     input: {subject: {id: zoë}, actors: [payments.settlement.reconciler], tool: transfer_funds,
 *             arguments: {amount: 25000}}
 *     expect: require_approval                     # or {effect: require_approval, rule: large-transfers}
 * </pre>
 */
public final class Fixtures {
    private static final Set<String> TOP = Set.of("policies", "cases");
    private static final Set<String> CASE = Set.of("name", "input", "expect");

    private Fixtures() {
    }

    /** One case's outcome; {@code explanation} is the trace of a failed case. */
    public record CaseResult(String file, String name, boolean passed, Effect expectedEffect, String expectedRule,
                             ToolDecision actual, Explanation explanation) {
    }

    /** Runs the fixture file, or every {@code *.yml}/{@code *.yaml} of a folder; {@code policies} overrides theirs. */
    public static List<CaseResult> run(Path fixtures, Path policies) {
        List<CaseResult> out = new ArrayList<>();
        for (Path f : files(fixtures)) {
            out.addAll(runFile(f, policies));
        }
        return out;
    }

    private static List<CaseResult> runFile(Path file, Path policiesOverride) {
        String name = file.toString();
        JsonNode root;
        try {
            root = PolicyReader.YAML.readTree(Files.readString(file));
        } catch (JsonProcessingException e) {
            throw new PolicyException(name, e.getLocation() == null ? 0 : e.getLocation().getLineNr(),
                    e.getOriginalMessage().lines().findFirst().orElse(""));
        } catch (IOException e) {
            throw new PolicyException(name, 0, "cannot read: " + e.getMessage());
        }
        if (root == null || !root.isObject()) {
            throw new PolicyException(name, 1, "a fixture file is a mapping with cases:");
        }
        known(root, TOP, name, "fixture file");
        Path policies = policiesOverride;
        if (policies == null) {
            JsonNode p = root.get("policies");
            if (p == null || !p.isTextual()) {
                throw new PolicyException(name, 0, "name the policies (policies: <file or folder>, relative to this file) "
                        + "or pass --policies");
            }
            Path base = file.toAbsolutePath().getParent();
            policies = base.resolve(p.asText()).normalize();
        }
        ToolPolicy policy = PolicyReader.read(policies);
        JsonNode cases = root.get("cases");
        if (cases == null || !cases.isArray() || cases.isEmpty()) {
            throw new PolicyException(name, 0, "cases: is a non-empty list");
        }
        List<CaseResult> out = new ArrayList<>();
        int i = 0;
        for (JsonNode c : cases) {
            i++;
            String where = "case " + i;
            if (!c.isObject()) {
                throw new PolicyException(name, 0, where + " is not a mapping");
            }
            known(c, CASE, name, where);
            String caseName = c.hasNonNull("name") ? c.get("name").asText() : where;
            ToolInput in;
            Effect effect;
            String rule = null;
            try {
                in = ToolInputs.fromTree(c.get("input"));
                JsonNode e = c.get("expect");
                if (e == null || e.isNull()) {
                    throw new IllegalArgumentException("expect is required (permit, deny, require_approval or {effect, rule})");
                }
                if (e.isTextual()) {
                    effect = Effect.of(e.asText());
                } else if (e.isObject()) {
                    known(e, Set.of("effect", "rule"), name, caseName + ": expect");
                    effect = Effect.of(e.path("effect").asText(null));
                    rule = e.hasNonNull("rule") ? e.get("rule").asText() : null;
                } else {
                    throw new IllegalArgumentException("expect is an effect or {effect, rule}");
                }
            } catch (IllegalArgumentException ex) {
                throw new PolicyException(name, 0, caseName + ": " + ex.getMessage());
            }
            ToolDecision d = policy.decide(in);
            boolean ok = d.effect() == effect && (rule == null || rule.equals(d.rule()));
            out.add(new CaseResult(name, caseName, ok, effect, rule, d, ok ? null : policy.explain(in)));
        }
        return out;
    }

    private static void known(JsonNode n, Set<String> keys, String file, String where) {
        for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!keys.contains(k)) {
                throw new PolicyException(file, 0, where + ": unknown key '" + k + "' (known: " + new java.util.TreeSet<>(keys) + ")");
            }
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
}
