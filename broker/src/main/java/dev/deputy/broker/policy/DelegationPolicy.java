package dev.deputy.broker.policy;

import java.util.List;
import java.util.Set;

/**
 * A tenant's delegation policy: a pure function from {@link DelegationInput} to {@link Decision}.
 *
 * <p>Deny overrides: any matching deny rule refuses. Otherwise the first matching allow rule (in file
 * order) decides and grants requested ∩ its scopes; policy only ever narrows. No matching rule: deny.
 * The chain-depth limit is the smaller of the tenant's and the rule's.
 */
public record DelegationPolicy(List<DelegationRule> rules, int maxChainDepth) {
    public static final int DEFAULT_MAX_DEPTH = 3;
    public static final DelegationPolicy DENY_ALL = new DelegationPolicy(List.of(), DEFAULT_MAX_DEPTH);

    public DelegationPolicy {
        rules = List.copyOf(rules);
        if (maxChainDepth < 1) {
            throw new IllegalArgumentException("max_chain_depth must be at least 1");
        }
    }

    public Decision decide(DelegationInput in) {
        if (in.chainDepth() > maxChainDepth) {
            return Decision.deny("max-chain-depth", "actor chain of " + in.chainDepth()
                    + " exceeds the tenant limit of " + maxChainDepth);
        }
        for (DelegationRule r : rules) {
            if (r.effect() == DelegationRule.Effect.DENY && r.matchesAgent(in) && r.matchesUser(in)
                    && r.matchesResource(in)) {
                return Decision.deny(r.id(), "denied by rule " + r.id());
            }
        }
        for (DelegationRule r : rules) {
            if (r.effect() != DelegationRule.Effect.ALLOW || !r.matchesAgent(in) || !r.matchesUser(in)
                    || !r.matchesResource(in)) {
                continue;
            }
            if (r.maxDepth() != null && in.chainDepth() > r.maxDepth()) {
                return Decision.deny(r.id(), "actor chain of " + in.chainDepth() + " exceeds rule " + r.id()
                        + "'s max_depth " + r.maxDepth());
            }
            Set<String> granted = r.narrow(in.requested());
            if (!in.requested().isEmpty() && granted.isEmpty()) {
                return Decision.deny(r.id(), "rule " + r.id() + " allows none of the requested scopes");
            }
            return new Decision(true, r.id(), granted, "allowed by rule " + r.id());
        }
        return Decision.deny(Decision.DEFAULT_DENY, "no rule lets agent " + in.agentId() + " act for this user at "
                + in.resource());
    }
}
