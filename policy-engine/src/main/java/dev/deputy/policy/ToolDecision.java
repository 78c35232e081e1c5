package dev.deputy.policy;

import java.util.Map;

/**
 * A decision: its effect, the rule that decided ({@link #DEFAULT_RULE} when none matched, or a broker check such as
 * {@code inactive-agent}), a reason fit for the audit log and the inputs the deciding rule used (input name → value,
 * e.g. {@code arguments.amount → 25000}; sensitive arguments are left out by the caller before it records them).
 */
public record ToolDecision(Effect effect, String rule, String reason, Map<String, Object> inputs) {
    public static final String DEFAULT_RULE = "default";

    public ToolDecision {
        inputs = inputs == null ? Map.of() : java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(inputs));
    }

    public boolean permitted() {
        return effect == Effect.PERMIT;
    }
}
