package dev.deputy.broker.policy;

import java.util.Set;

/**
 * A policy answer: allow with the scopes it grants (never more than requested), or deny; always with
 * the rule that decided (or {@code default-deny}) and a reason fit for the audit log.
 */
public record Decision(boolean allowed, String ruleId, Set<String> granted, String reason) {
    public static final String DEFAULT_DENY = "default-deny";

    public Decision {
        granted = granted == null ? Set.of() : Set.copyOf(granted);
    }

    public static Decision deny(String ruleId, String reason) {
        return new Decision(false, ruleId, Set.of(), reason);
    }
}
