package dev.deputy.broker.authorize;

import dev.deputy.broker.agent.AgentStore;
import dev.deputy.broker.agent.Resource;
import dev.deputy.broker.agent.Role;
import jakarta.inject.Singleton;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * A user's scopes for a resource: requested ∩ what the user's roles allow (roles from the connector's
 * group → role mapping; role → scopes from the role registry) ∩ the resource's scopes. Never widens: with
 * no scope requested the user gets what roles and resource both allow.
 */
@Singleton
public class Scopes {
    private final AgentStore agents;

    public Scopes(AgentStore agents) {
        this.agents = agents;
    }

    public List<String> forUser(String tenantId, Collection<String> userRoles, Resource resource, List<String> requested) {
        Set<String> allowed = new LinkedHashSet<>();
        for (Role r : agents.listRoles(tenantId)) {
            if (userRoles.contains(r.name())) {
                allowed.addAll(r.scopes());
            }
        }
        allowed.retainAll(new LinkedHashSet<>(resource.scopes()));
        if (requested.isEmpty()) {
            return new ArrayList<>(allowed);
        }
        List<String> out = new ArrayList<>();
        for (String s : requested) {
            if (allowed.contains(s) && !out.contains(s)) {
                out.add(s);
            }
        }
        return out;
    }
}
