package dev.deputy.broker.admin;

import dev.deputy.broker.agent.AgentException;
import dev.deputy.broker.agent.Catalog;
import dev.deputy.broker.config.PlanApprovalStore;
import io.micronaut.core.annotation.Nullable;
import jakarta.inject.Singleton;

import java.util.List;
import java.util.Set;

/**
 * The rule for granting roles to an agent, at creation or by a change, shared by the admin API
 * ({@link AgentsController}) and the console's create form ({@link ConsoleGate#checkGrants}): a role marked
 * {@code privileged: true} in its file is granted only by an approved plan, never here (docs/cli.md); a role named
 * in {@code DEPUTY_CONSOLE_PRIVILEGED_ROLES} needs step-up (docs/console.md).
 */
@Singleton
class RoleGrants {
    private final Catalog catalog;
    private final StepUp stepUp;
    private final PlanApprovalStore privileges;

    RoleGrants(Catalog catalog, StepUp stepUp, PlanApprovalStore privileges) {
        this.catalog = catalog;
        this.stepUp = stepUp;
        this.privileges = privileges;
    }

    /** Throws {@link AgentException} (approval required) or {@link AdminRefusal} (step-up) when {@code who} may not grant them. */
    void check(String tenant, @Nullable List<String> wanted, List<String> held, @Nullable AdminPrincipal who) {
        if (wanted == null || wanted.isEmpty()) {
            return;
        }
        Set<String> privileged = privileges.privilegedRoles(tenant);
        List<String> granted = wanted.stream().filter(r -> privileged.contains(r) && !held.contains(r)).toList();
        if (!granted.isEmpty()) {
            throw new AgentException(AgentException.Kind.APPROVAL_REQUIRED, "role" + (granted.size() == 1 ? " " : "s ")
                    + granted + " privileged: grant it in the agent's file with deputy plan / apply and a second "
                    + "admin's approval");
        }
        for (String name : wanted) {
            if (name == null || held.contains(name)) {
                continue;
            }
            var role = catalog.findRole(tenant, name);
            if (role.isPresent() && stepUp.privileged(role.get())) {
                if (who == null) {
                    throw AdminRefusal.forbidden("not an admin");
                }
                stepUp.require(who, "granting the privileged role " + name);
            }
        }
    }
}
