package dev.deputy.broker.admin;

import dev.deputy.broker.agent.Actor;
import dev.deputy.broker.agent.AgentException;
import dev.deputy.broker.agent.Dormancy;
import dev.deputy.broker.config.TenantDormancy;
import dev.deputy.broker.http.UnknownTenantException;
import dev.deputy.broker.tenant.Tenants;
import io.micronaut.security.authentication.Authentication;
import jakarta.inject.Singleton;

/** What every admin controller needs: the tenant checked, the acting admin, the tenant's dormancy rule. */
@Singleton
class AdminContext {
    private final Tenants tenants;
    private final TenantDormancy dormancy;

    AdminContext(Tenants tenants, TenantDormancy dormancy) {
        this.tenants = tenants;
        this.dormancy = dormancy;
    }

    String tenant(String tenant) {
        if (tenants.find(tenant).isEmpty()) {
            throw new UnknownTenantException(tenant);
        }
        return tenant;
    }

    static Actor actor(Authentication auth) {
        if (auth == null) {
            throw AgentException.invalid("no admin identity");
        }
        return Actor.admin(auth.getName());
    }

    Dormancy dormancy(String tenant) {
        TenantDormancy.Setting s = dormancy.of(tenant);
        return new Dormancy(s.period(), s.autoSuspend());
    }
}
