package dev.deputy.broker.policy;

import dev.deputy.broker.config.ConfigException;
import dev.deputy.broker.config.YamlFiles;
import dev.deputy.broker.tenant.Tenant;
import dev.deputy.broker.tenant.Tenants;
import jakarta.inject.Singleton;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The tenants' delegation policies, loaded from {@code policies/*.yml} in each tenant's config folder
 * (files in name order, rules in file order). A bad file refuses start with its path, line and reason.
 */
@Singleton
public class Policies {
    private final Map<String, DelegationPolicy> byTenant = new ConcurrentHashMap<>();

    public Policies(Tenants tenants, dev.deputy.broker.config.LiveConfig live) {
        for (Tenant t : tenants.all()) {
            byTenant.put(t.id(), load(t.configDir().resolve("policies")));
        }
        // an apply of policies/ reaches every node without a restart
        live.listen(id -> tenants.find(id).ifPresent(t -> byTenant.put(id, load(t.configDir().resolve("policies")))));
    }

    /** The tenant's rules (admin API, deputy policy list). */
    public Map<String, DelegationPolicy> all() {
        return Map.copyOf(byTenant);
    }

    public DelegationPolicy of(String tenantId) {
        return byTenant.getOrDefault(tenantId, DelegationPolicy.DENY_ALL);
    }

    /** Replaces a tenant's policy (policy-as-code apply). */
    public void replace(String tenantId, DelegationPolicy policy) {
        byTenant.put(tenantId, policy);
    }

    public static DelegationPolicy load(Path dir) {
        List<DelegationRule> rules = new ArrayList<>();
        Set<String> ids = new HashSet<>();
        Integer depth = null;
        for (Path file : YamlFiles.list(dir)) {
            PolicyFile pf = YamlFiles.read(file, PolicyFile.class);
            if (pf.maxChainDepth() != null) {
                if (depth != null && !depth.equals(pf.maxChainDepth())) {
                    throw new ConfigException(file, 0, "max_chain_depth is set differently in another policy file");
                }
                depth = pf.maxChainDepth();
            }
            for (DelegationRule r : pf.delegation()) {
                if (!ids.add(r.id())) {
                    throw new ConfigException(file, 0, "duplicate rule id '" + r.id() + "'");
                }
                rules.add(r);
            }
        }
        return new DelegationPolicy(rules, depth == null ? DelegationPolicy.DEFAULT_MAX_DEPTH : depth);
    }
}
