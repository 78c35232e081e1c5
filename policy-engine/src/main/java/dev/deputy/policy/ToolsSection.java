package dev.deputy.policy;

import com.fasterxml.jackson.annotation.JsonProperty;

import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The {@code tools:} section of a tenant's {@code policies/*.yml} file, as written (read strictly: unknown keys and
 * failed checks are errors with the file and line). {@link ToolPolicy#of} compiles the sections of all files.
 *
 * <pre>
 * tools:
 *   default: deny                       # permit | deny | require_approval when no rule matches (default: deny)
 *   sensitive_arguments: [iban, note]   # never written to the audit log
 *   decision_clients: [bank-mcp]        # the resource servers that may ask for decisions (AuthZEN)
 *   rules:
 *     - id: large-transfers-need-approval
 *       effect: require_approval
 *       tools: [transfer_funds]
 *       when: ["amount > 10000"]
 * </pre>
 */
public record ToolsSection(@JsonProperty("default") Effect defaultEffect, List<String> sensitiveArguments,
                           List<String> decisionClients, List<Rule> rules) {
    public static final Pattern ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");

    public ToolsSection {
        sensitiveArguments = sensitiveArguments == null ? List.of() : List.copyOf(sensitiveArguments);
        decisionClients = decisionClients == null ? List.of() : List.copyOf(decisionClients);
        rules = rules == null ? List.of() : List.copyOf(rules);
        for (String s : sensitiveArguments) {
            if (s == null || s.isBlank()) {
                throw new IllegalArgumentException("sensitive_arguments: names must not be empty");
            }
        }
    }

    /**
     * One tool rule. Every condition it names must hold for it to match (a list inside a condition means any of);
     * a rule naming no condition but {@code tools} matches every call of those tools.
     */
    public record Rule(String id, String description, Effect effect, List<String> tools, List<String> servers,
                       SubjectMatch subject, ActorsMatch actors, List<String> when, TimeWindow time,
                       List<String> source) {
        public Rule {
            if (id == null || !ID.matcher(id).matches()) {
                throw new IllegalArgumentException("rule id is required and must match " + ID.pattern());
            }
            if (effect == null) {
                throw new IllegalArgumentException("rule " + id + ": effect is required (permit, deny or require_approval)");
            }
            tools = tools == null ? List.of() : List.copyOf(tools);
            servers = servers == null ? List.of() : List.copyOf(servers);
            when = when == null ? List.of() : List.copyOf(when);
            source = source == null ? List.of() : List.copyOf(source);
            if (tools.isEmpty()) {
                throw new IllegalArgumentException("rule " + id + ": name the tools it covers (\"*\" for every tool)");
            }
            // compile once here: a bad condition, glob, time window or address is an error at load, with its line
            CompiledRule.compile(id, description, effect, tools, servers, subject, actors, when, time, source);
        }
    }

    /** Who the subject is: ids (globs), any of the groups, and every listed attribute equal to (or in) its value(s). */
    public record SubjectMatch(List<String> ids, List<String> groups, Map<String, Object> attributes, String type) {
        public SubjectMatch {
            ids = ids == null ? List.of() : List.copyOf(ids);
            groups = groups == null ? List.of() : List.copyOf(groups);
            attributes = attributes == null ? Map.of() : Map.copyOf(attributes);
            if (type != null && !type.equals("user") && !type.equals("agent")) {
                throw new IllegalArgumentException("subject type must be user or agent");
            }
        }
    }

    /**
     * The actor chain: {@code agents} (globs) — some agent of the chain is one of them; {@code environments} — every
     * agent of the chain runs in one of them; {@code min_depth} / {@code max_depth} — the chain's length (0 = no agent).
     */
    public record ActorsMatch(List<String> agents, List<String> environments, Integer minDepth, Integer maxDepth) {
        public ActorsMatch {
            agents = agents == null ? List.of() : List.copyOf(agents);
            environments = environments == null ? List.of() : List.copyOf(environments);
            if (minDepth != null && minDepth < 0 || maxDepth != null && maxDepth < 0) {
                throw new IllegalArgumentException("min_depth and max_depth must not be negative");
            }
            if (minDepth != null && maxDepth != null && minDepth > maxDepth) {
                throw new IllegalArgumentException("min_depth is greater than max_depth");
            }
        }
    }

    /**
     * A time window: on these days ({@code mon} … {@code sun}), between these hours ({@code "08:00-18:00"}, may wrap
     * midnight), in this zone (IANA name, default UTC).
     */
    public record TimeWindow(List<String> days, String hours, String zone) {
        public TimeWindow {
            days = days == null ? List.of() : List.copyOf(days);
        }
    }
}
