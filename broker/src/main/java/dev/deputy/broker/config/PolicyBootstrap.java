package dev.deputy.broker.config;

import dev.deputy.broker.agent.Actor;
import dev.deputy.broker.audit.RequestMeta;
import dev.deputy.broker.tenant.Tenant;
import dev.deputy.broker.tenant.TenantBootstrap;
import dev.deputy.broker.tenant.Tenants;
import io.micronaut.context.annotation.Context;
import io.micronaut.context.annotation.Value;
import jakarta.annotation.PostConstruct;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * At start, applies every tenant's {@code agents/}, {@code roles/} and {@code resources/} files from the
 * config tree ({@code DEPUTY_CONFIG_DIR}). A bad file or a plan that cannot apply refuses the start with
 * path:line: reason. Off with {@code deputy.agents.apply-on-start=false}.
 */
@Context
public class PolicyBootstrap {
    private static final Logger LOG = LoggerFactory.getLogger(PolicyBootstrap.class);
    private final Tenants tenants;
    private final PolicyApply engine;
    private final boolean enabled;

    public PolicyBootstrap(Tenants tenants, TenantBootstrap tenantsReady, PolicyApply engine,
                           @Value("${deputy.agents.apply-on-start:true}") boolean enabled) {
        this.tenants = tenants;
        this.engine = engine;
        this.enabled = enabled;
    }

    @PostConstruct
    void start() {
        if (!enabled) {
            return;
        }
        for (Tenant t : tenants.all()) {
            PolicyFiles files = PolicyFiles.load(t.configDir());
            PolicyApply.Plan plan = engine.plan(t.id(), files, Actor.CONFIG);
            if (!plan.ok()) {
                throw plan.errors().get(0);
            }
            if (!plan.changes().isEmpty()) {
                engine.apply(t.id(), files, false, Actor.CONFIG, RequestMeta.INTERNAL);
                LOG.info("applied config to tenant {}:\n{}", t.id(), plan.render(Object::toString).stripTrailing());
            }
        }
    }
}
