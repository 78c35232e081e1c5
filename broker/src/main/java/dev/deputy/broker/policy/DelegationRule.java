package dev.deputy.broker.policy;

import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * One delegation rule of a tenant's policy file.
 *
 * <pre>
 * - id: billing-bot-for-finance
 *   effect: allow                # allow | deny
 *   agents: [billing-bot]        # agent ids, "*" for any; or
 *   agent_roles: [billing]       # agents holding any of these roles
 *   users:                       # who may be acted for; omitted = nobody, {all: true} = everyone
 *     groups: [finance]
 *     roles: [accountant]
 *     connectors: [okta]
 *   resources: ["https://mcp.example.com/billing"]   # "*" for any registered resource
 *   scopes: ["mcp:tool:invoice.read"]                # the most this rule grants; "*" = whatever was asked
 *   max_depth: 2                 # longest actor chain this rule allows (default: the tenant's limit)
 * </pre>
 */
public record DelegationRule(String id, String description, Effect effect, List<String> agents, List<String> agentRoles,
                             Users users, List<String> resources, List<String> scopes, Integer maxDepth) {
    public static final Pattern ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");

    public enum Effect { ALLOW, DENY }

    /** Which users a rule covers: everyone, or anyone in one of the groups / roles / connectors. */
    public record Users(Boolean all, List<String> groups, List<String> roles, List<String> connectors) {
        public Users {
            all = all != null && all;
            groups = groups == null ? List.of() : List.copyOf(groups);
            roles = roles == null ? List.of() : List.copyOf(roles);
            connectors = connectors == null ? List.of() : List.copyOf(connectors);
        }

        boolean matches(DelegationInput in) {
            if (all) {
                return true;
            }
            return groups.stream().anyMatch(in.userGroups()::contains)
                    || roles.stream().anyMatch(in.userRoles()::contains)
                    || (in.userConnector() != null && connectors.contains(in.userConnector()));
        }
    }

    public DelegationRule {
        if (id == null || !ID.matcher(id).matches()) {
            throw new IllegalArgumentException("rule id is required and must match " + ID.pattern());
        }
        effect = effect == null ? Effect.ALLOW : effect;
        agents = agents == null ? List.of() : List.copyOf(agents);
        agentRoles = agentRoles == null ? List.of() : List.copyOf(agentRoles);
        resources = resources == null ? List.of() : List.copyOf(resources);
        scopes = scopes == null ? List.of() : List.copyOf(scopes);
        if (agents.isEmpty() && agentRoles.isEmpty()) {
            throw new IllegalArgumentException("rule " + id + ": name the agents (or agent_roles) it applies to");
        }
        if (resources.isEmpty()) {
            throw new IllegalArgumentException("rule " + id + ": name its resources (\"*\" for any)");
        }
        if (effect == Effect.ALLOW && users == null) {
            throw new IllegalArgumentException("rule " + id + ": name the users it covers (users: {all: true} for everyone)");
        }
        if (maxDepth != null && maxDepth < 1) {
            throw new IllegalArgumentException("rule " + id + ": max_depth must be at least 1");
        }
    }

    boolean matchesAgent(DelegationInput in) {
        return agents.contains("*") || agents.contains(in.agentId())
                || agentRoles.stream().anyMatch(in.agentRoles()::contains);
    }

    boolean matchesUser(DelegationInput in) {
        return users == null || users.matches(in); // a deny rule without users denies for everyone
    }

    boolean matchesResource(DelegationInput in) {
        return resources.contains("*") || resources.contains(in.resource());
    }

    /** requested ∩ this rule's scopes ("*" keeps what was requested). */
    Set<String> narrow(Set<String> requested) {
        if (scopes.contains("*")) {
            return requested;
        }
        return requested.stream().filter(scopes::contains).collect(java.util.stream.Collectors.toUnmodifiableSet());
    }
}
