package dev.deputy.broker.admin;

import dev.deputy.broker.agent.Role;
import dev.deputy.broker.config.PlanApprovalStore;
import io.micronaut.http.HttpMethod;
import io.micronaut.http.HttpRequest;
import jakarta.inject.Singleton;

/**
 * Which roles are privileged — marked {@code privileged: true} in their file (granted only by an approved plan,
 * docs/cli.md) or named in {@code DEPUTY_CONSOLE_PRIVILEGED_ROLES} (granting needs step-up) — and the rule that
 * replacing or deleting such a role is a privileged action: it needs a recent multi-factor sign-in (a privileged
 * automation credential), as granting one does (docs/console.md, "Step-up for privileged actions").
 */
@Singleton
public class PrivilegedRoles {
    private final PlanApprovalStore files;
    private final StepUp stepUp;
    private final AdminErrors errors;

    PrivilegedRoles(PlanApprovalStore files, StepUp stepUp, AdminErrors errors) {
        this.files = files;
        this.stepUp = stepUp;
        this.errors = errors;
    }

    public boolean privileged(String tenant, Role role) {
        return stepUp.privileged(role) || files.privilegedRoles(tenant).contains(role.name());
    }

    /** Throws the refusal (401 step-up, or 403 for an automation credential without the capability) if any. */
    void requireForChange(AdminPrincipal p, String tenant, Role role, String action) {
        if (privileged(tenant, role)) {
            stepUp.require(p, action + " (role " + role.name() + " is privileged)");
        }
    }

    /** {@link #requireForChange} for a console page: the refusal is audited as the API's, naming its route. */
    public void requireForChange(AdminPrincipal p, String tenant, Role role, HttpRequest<?> request, HttpMethod method,
                                 String path) {
        try {
            requireForChange(p, tenant, role, method + " " + path);
        } catch (AdminRefusal e) {
            errors.audit(request, method.name(), path, e.error(), e.status(), e.getMessage());
            throw e;
        }
    }
}
