package dev.deputy.broker.policy;

import dev.deputy.broker.config.ConfigException;
import dev.deputy.broker.config.YamlFiles;
import dev.deputy.broker.tenant.Tenant;
import dev.deputy.broker.tenant.Tenants;
import dev.deputy.policy.ToolPolicy;
import dev.deputy.policy.ToolsSection;
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
    private final Map<String, ToolPolicy> toolsByTenant = new ConcurrentHashMap<>();

    public Policies(Tenants tenants, dev.deputy.broker.config.LiveConfig live) {
        for (Tenant t : tenants.all()) {
            byTenant.put(t.id(), load(t.configDir().resolve("policies")));
            toolsByTenant.put(t.id(), loadTools(t.configDir().resolve("policies")));
        }
        // an apply of policies/ reaches every node without a restart: delegation rules and the tool policy
        live.listen(id -> tenants.find(id).ifPresent(t -> {
            Path dir = t.configDir().resolve("policies");
            byTenant.put(id, load(dir));
            toolsByTenant.put(id, loadTools(dir));
        }));
    }

    /** The tenant's tool policy (governance decisions); no {@code tools:} section anywhere = deny every tool. */
    public ToolPolicy tools(String tenantId) {
        return toolsByTenant.getOrDefault(tenantId, ToolPolicy.DENY_ALL);
    }

    /** Replaces a tenant's tool policy (policy-as-code apply). */
    public void replaceTools(String tenantId, ToolPolicy policy) {
        toolsByTenant.put(tenantId, policy);
    }

    /**
     * The tool policy of {@code policies/*.yml} ({@code tools:} sections, files in name order), compiled once; a bad
     * section refuses start with its path, line and reason, like the delegation rules.
     */
    public static ToolPolicy loadTools(Path dir) {
        List<ToolsSection> sections = new ArrayList<>();
        Path last = dir;
        for (Path file : YamlFiles.list(dir)) {
            PolicyFile pf = YamlFiles.read(file, PolicyFile.class);
            if (pf.tools() != null) {
                sections.add(pf.tools());
                last = file;
            }
        }
        try {
            return ToolPolicy.of(sections);
        } catch (IllegalArgumentException e) {
            throw new ConfigException(last, 0, e.getMessage());
        }
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
        Map<Path, PolicyFile> files = new java.util.LinkedHashMap<>();
        for (Path file : YamlFiles.list(dir)) {
            files.put(file, YamlFiles.read(file, PolicyFile.class));
        }
        return rules(files);
    }

    /**
     * The delegation rules of proposed policy files (file name → YAML text: the whole {@code policies/} folder as it
     * would be, e.g. for the dry-run), read and checked exactly as {@link #load} reads the folder: files in name order,
     * a bad file is a {@link ConfigException} with its name, line and reason. Blank texts count as absent files.
     */
    public static DelegationPolicy compile(Map<String, String> texts) {
        Map<Path, PolicyFile> files = new java.util.LinkedHashMap<>();
        for (Map.Entry<String, String> t : new java.util.TreeMap<>(texts).entrySet()) {
            if (t.getValue() == null || t.getValue().isBlank()) {
                continue;
            }
            Path name;
            try {
                name = Path.of(t.getKey());
            } catch (java.nio.file.InvalidPathException e) {
                throw new ConfigException(Path.of("policies"), 0, "not a file name: " + t.getKey().replace('\0', '?'));
            }
            files.put(name, YamlFiles.parse(name, t.getValue(), PolicyFile.class));
        }
        return rules(files);
    }

    private static DelegationPolicy rules(Map<Path, PolicyFile> files) {
        List<DelegationRule> rules = new ArrayList<>();
        Set<String> ids = new HashSet<>();
        Integer depth = null;
        for (Map.Entry<Path, PolicyFile> f : files.entrySet()) {
            Path file = f.getKey();
            PolicyFile pf = f.getValue();
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
