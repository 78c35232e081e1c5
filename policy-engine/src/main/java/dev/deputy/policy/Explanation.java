package dev.deputy.policy;

import com.fasterxml.jackson.annotation.JsonInclude;

import java.util.List;

/**
 * Why a decision came out as it did: every rule in evaluation order, whether it matched, and each of its checks with
 * the input it read, what it expected and the outcome. Built by {@link ToolPolicy#explain}; printed by
 * {@code deputy policy explain}.
 */
public record Explanation(ToolDecision decision, Effect defaultEffect, List<RuleTrace> rules) {

    /** One rule: {@code matched}, {@code not matched}, or {@code matched (fail closed)} when an input was missing. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record RuleTrace(String id, Effect effect, String result, String description, List<CheckTrace> checks) {
    }

    /** One check: the input (e.g. {@code arguments.amount}), its value, the expectation, the outcome. */
    public record CheckTrace(String input, Object actual, String expected, String outcome) {
    }

    /** Human-readable, one line per check; the deciding rule is marked. */
    public String render() {
        StringBuilder sb = new StringBuilder();
        sb.append("decision: ").append(decision.effect().value()).append(" (rule ").append(decision.rule())
                .append(")\n  ").append(decision.reason()).append('\n');
        if (rules.isEmpty()) {
            sb.append("no tool rules; the default is ").append(defaultEffect.value()).append('\n');
        }
        for (RuleTrace r : rules) {
            boolean decided = r.id().equals(decision.rule());
            sb.append(decided ? "* " : "  ").append(r.id()).append(" [").append(r.effect().value()).append("] ")
                    .append(r.result()).append('\n');
            for (CheckTrace c : r.checks()) {
                String mark = switch (c.outcome()) {
                    case "match" -> "ok  ";
                    case "no_match" -> "FAIL";
                    default -> "??  ";
                };
                sb.append("      ").append(mark).append(' ').append(c.input()).append(" = ").append(show(c.actual()))
                        .append("  (expected ").append(c.expected()).append(")\n");
            }
        }
        if (decision.rule().equals(ToolDecision.DEFAULT_RULE)) {
            sb.append("* no rule matched: the default (").append(defaultEffect.value()).append(") applies\n");
        }
        return sb.toString();
    }

    private static String show(Object o) {
        if (o == null) {
            return "(absent)";
        }
        return o instanceof String s ? '"' + s + '"' : String.valueOf(o);
    }
}
