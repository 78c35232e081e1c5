package dev.deputy.broker.admin;

import dev.deputy.broker.agent.Agents;
import dev.deputy.broker.agent.Dormancy;
import dev.deputy.broker.ephemeral.EphemeralStore;
import dev.deputy.broker.tenant.Tenant;
import dev.deputy.broker.tenant.Tenants;
import io.micronaut.scheduling.annotation.Scheduled;
import jakarta.inject.Singleton;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Suspends dormant agents in tenants that set {@code dormancy.auto_suspend: true}; each suspension is audited
 * as {@code system:dormancy}. One node per interval does the sweep (a lock in the shared ephemeral store).
 */
@Singleton
public class DormancyJob {
    private static final Logger LOG = LoggerFactory.getLogger(DormancyJob.class);
    private static final Duration LOCK = Duration.ofMinutes(5);
    private final Tenants tenants;
    private final Agents agents;
    private final AdminContext ctx;
    private final EphemeralStore ephemeral;

    DormancyJob(Tenants tenants, Agents agents, AdminContext ctx, EphemeralStore ephemeral) {
        this.tenants = tenants;
        this.agents = agents;
        this.ctx = ctx;
        this.ephemeral = ephemeral;
    }

    @Scheduled(fixedDelay = "${deputy.agents.dormancy-check-interval:1h}", initialDelay = "${deputy.agents.dormancy-initial-delay:2m}")
    void scheduled() {
        try {
            sweep(true);
        } catch (RuntimeException e) {
            LOG.warn("dormancy sweep failed: {}", e.toString());
        }
    }

    /** Runs the sweep now; returns the suspended agent ids per tenant. {@code lock}: skip tenants another node sweeps. */
    public Map<String, List<String>> sweep(boolean lock) {
        Map<String, List<String>> out = new LinkedHashMap<>();
        long now = System.currentTimeMillis();
        for (Tenant t : tenants.all()) {
            Dormancy d = ctx.dormancy(t.id());
            if (!d.autoSuspend()) {
                continue;
            }
            if (lock && !ephemeral.putIfAbsent("dormancy-sweep:" + t.id(), Long.toString(now), LOCK)) {
                continue;
            }
            List<String> suspended = agents.suspendDormant(t.id(), d, now);
            if (!suspended.isEmpty()) {
                LOG.info("tenant {}: suspended dormant agents {}", t.id(), suspended);
            }
            out.put(t.id(), suspended);
        }
        return out;
    }
}
