package dev.deputy.broker.agent;

import java.util.List;
import java.util.Set;

/**
 * Filters of a page of a tenant's agents (the console's agent list); null means "any". Answered by the store in SQL,
 * so that a page of a tenant with ten thousand agents reads one page of rows, not the whole registry.
 *
 * @param owners when not null, only agents whose owner is one of these (an agent owner sees their own agents)
 * @param search a lower-case needle found in the id, or in the name or owner compared in lower case
 */
public record AgentQuery(Agent.Status status, String environment, String owner, Set<String> owners, String role,
                         String search) {
    public AgentQuery {
        owners = owners == null ? null : Set.copyOf(owners);
    }

    /** One page in id order, and how many agents match in all. */
    public record Page(List<Agent> agents, int total) {
    }
}
