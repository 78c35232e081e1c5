package dev.deputy.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.deputy.policy.Explanation;
import dev.deputy.policy.Fixtures;
import dev.deputy.policy.PolicyException;
import dev.deputy.policy.PolicyReader;
import dev.deputy.policy.ToolInput;
import dev.deputy.policy.ToolInputs;
import dev.deputy.policy.ToolPolicy;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import static dev.deputy.cli.AdminApi.seg;

/**
 * {@code deputy policy …}: the tool policy (the {@code tools:} section of {@code policies/*.yml}, docs/governance.md).
 * {@code test} and {@code explain} run offline with the shared policy engine (module policy-engine), no broker
 * needed (CI); {@code dry-run} asks the broker to re-decide its recent tool decisions with proposed files;
 * {@code list} and {@code show} read the delegation rules ({@code /admin/t/<t>/policies}; they change through
 * policies/*.yml: deputy plan / apply).
 */
@Command(name = "policy", description = "Policies: list and show the delegation rules; test fixtures and explain tool decisions offline; dry-run a change on recent traffic.")
final class PolicyCommand extends Group {

    @Command(name = "list", description = "List the tenant's delegation rules, in the order they are evaluated.")
    int list() {
        Map<String, Object> r = api().get(api().tenantPath("/policies"));
        out().emit(r, p -> {
            p.println("max_chain_depth: " + r.get("max_chain_depth"));
            Output.columns(p, Lists.maps(r.get("rules")), "no delegation rules (everything is denied)", "id", "effect",
                    "agents", "agent_roles", "resources", "scopes");
        });
        return 0;
    }

    @Command(name = "show", description = "Show one delegation rule.")
    int show(@Parameters(paramLabel = "RULE_ID") String id) {
        out().object(api().get(api().tenantPath("/policies/" + seg(id))), null);
        return 0;
    }

    @Command(name = "test", description = {"Run policy fixture files (input -> expected decision) offline; exit 1 if any case fails.",
            "A fixture file names its policies (policies: <file or folder>, relative to it) unless --policies is given."})
    int test(@Parameters(paramLabel = "FIXTURES", description = "a fixture file, or a folder of them") Path fixtures,
             @Option(names = "--policies", paramLabel = "PATH", description = "policy file or folder (overrides the fixtures')") Path policies) {
        List<Fixtures.CaseResult> results = new ArrayList<>();
        try {
            results.addAll(Fixtures.run(fixtures, policies));
        } catch (PolicyException e) {
            throw CliException.usage(e.getMessage());
        }
        long failed = results.stream().filter(r -> !r.passed()).count();
        List<Map<String, Object>> data = new ArrayList<>();
        for (Fixtures.CaseResult r : results) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("file", r.file());
            m.put("case", r.name());
            m.put("passed", r.passed());
            m.put("expected", r.expectedRule() == null ? r.expectedEffect().value()
                    : r.expectedEffect().value() + " (" + r.expectedRule() + ")");
            m.put("actual", r.actual().effect().value() + " (" + r.actual().rule() + ")");
            data.add(m);
        }
        Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("cases", results.size());
        summary.put("failed", failed);
        summary.put("results", data);
        out().emit(summary, p -> {
            for (Fixtures.CaseResult r : results) {
                if (r.passed()) {
                    p.printf("ok    %s: %s -> %s (%s)%n", r.file(), r.name(), r.actual().effect().value(), r.actual().rule());
                } else {
                    p.printf("FAIL  %s: %s: expected %s%s, got %s (%s)%n", r.file(), r.name(), r.expectedEffect().value(),
                            r.expectedRule() == null ? "" : " (" + r.expectedRule() + ")", r.actual().effect().value(),
                            r.actual().rule());
                    r.explanation().render().lines().forEach(l -> p.println("      " + l));
                }
            }
            p.printf("%d case(s), %d failed%n", results.size(), failed);
        });
        return failed == 0 ? ExitCodes.OK : ExitCodes.FAILED;
    }

    @Command(name = "explain", description = {"Decide one input offline and show why: every rule, each check, the input it read.",
            "INPUT is a YAML or JSON file (- for stdin) in the decision input shape (docs/governance.md)."})
    int explain(@Parameters(paramLabel = "INPUT", description = "the decision input (file, or - for stdin)") String input,
                @Option(names = "--policies", paramLabel = "PATH", required = true, description = "policy file or folder") Path policies)
            throws IOException {
        String text = input.equals("-") ? new String(System.in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8)
                : AgentCommand.read(Path.of(input));
        ToolPolicy policy;
        ToolInput in;
        try {
            policy = PolicyReader.read(policies);
            JsonNode tree = PolicyReader.YAML.readTree(text);
            in = ToolInputs.fromTree(tree);
        } catch (PolicyException e) {
            throw CliException.usage(e.getMessage());
        } catch (IllegalArgumentException | IOException e) {
            throw CliException.usage("input: " + e.getMessage());
        }
        Explanation e = policy.explain(in);
        out().emit(e, p -> p.print(e.render()));
        return ExitCodes.OK;
    }

    @Command(name = "dry-run", description = {"Re-decide the broker's recent tool decisions with proposed policy files:",
            "how many past calls would now get another effect, and which. Read-only."})
    int dryRun(@Parameters(paramLabel = "POLICIES", description = "the proposed policies folder (or one file)") Path policies,
               @Option(names = "--since", paramLabel = "WHEN", defaultValue = "24h", description = "ISO-8601, epoch ms, or 15m/24h/7d ago (default 24h)") String since,
               @Option(names = "--limit", paramLabel = "N", defaultValue = "1000", description = "past decisions to read (default 1000)") int limit)
            throws IOException {
        Map<String, String> files = new TreeMap<>();
        if (Files.isDirectory(policies)) {
            try (Stream<Path> s = Files.list(policies)) {
                for (Path f : s.filter(f -> f.toString().endsWith(".yml") || f.toString().endsWith(".yaml")).sorted().toList()) {
                    files.put(f.getFileName().toString(), Files.readString(f));
                }
            }
        } else if (Files.isRegularFile(policies)) {
            files.put(policies.getFileName().toString(), Files.readString(policies));
        } else {
            throw CliException.usage("no such file or folder: " + policies);
        }
        try {
            PolicyReader.compile(files); // the same checks offline first: a bad file is a usage error, not a round trip
        } catch (PolicyException e) {
            throw CliException.usage(e.getMessage());
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("files", files);
        body.put("since", since);
        body.put("limit", limit);
        Map<String, Object> r = api().call("POST", api().tenantPath("/policies/dry-run"), body);
        out().emit(r, p -> {
            p.printf("%s past tool decisions re-decided (since %s), %s would change%n", r.get("evaluated"), since, r.get("changed"));
            if (r.get("transitions") instanceof Map<?, ?> t) {
                t.forEach((k, v) -> p.printf("  %s: %s%n", k, v));
            }
            if (r.get("changes") instanceof List<?> cs) {
                for (Object o : cs) {
                    if (o instanceof Map<?, ?> c) {
                        p.printf("  #%s %s %s by %s for %s: %s -> %s%n", c.get("seq"), c.get("at"), c.get("tool"),
                                c.get("actors"), c.get("subject"), c.get("before"), c.get("after"));
                    }
                }
            }
        });
        return ExitCodes.OK;
    }
}
