package dev.deputy.policy;

import java.util.List;

/**
 * What a tool policy grants one agent (the least-privilege report, docs/governance.md): a permit or require_approval
 * rule that can match a call by the agent, read statically from the rule as written.
 *
 * @param rule       the rule id ({@link ToolDecision#DEFAULT_RULE} for a tenant default of permit or
 *                   require_approval, which grants every tool)
 * @param effect     permit or require_approval
 * @param tools      the rule's tool names and globs, as written
 * @param ways       how the agent can meet it: {@code for_users} (the agent in the actor chain of a user's call),
 *                   {@code alone} (the agent as the subject, acting on its own)
 * @param conditions what else must hold, as written (the user's groups or attributes, servers, arguments, time,
 *                   source, chain depth): a grant with conditions is granted only when they hold
 * @param namesAgent the rule names the agent by its exact id ({@code actors.agents} or {@code subject.ids}), so the
 *                   change that removes the grant is to take the id out; otherwise the rule reaches it through a glob
 *                   or through no agent condition at all
 */
public record ToolGrant(String rule, Effect effect, List<String> tools, List<String> ways, List<String> conditions,
                        boolean namesAgent) {
    public static final String FOR_USERS = "for_users";
    public static final String ALONE = "alone";

    public ToolGrant {
        tools = List.copyOf(tools);
        ways = List.copyOf(ways);
        conditions = List.copyOf(conditions);
    }

    /** Whether one of this grant's tool names or globs covers the tool. */
    public boolean covers(String tool) {
        return new Glob(tools, "tools").matches(tool);
    }

    /** Whether this one tool name or glob (one of {@link #tools}) covers the tool. */
    public static boolean covers(String pattern, String tool) {
        return new Glob(List.of(pattern), "tools").matches(tool);
    }
}
