package dev.deputy.broker.tenant;

import dev.deputy.broker.config.ConfigTree;
import dev.deputy.broker.config.DeputySettings;
import jakarta.inject.Singleton;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/** The tenants loaded from the config tree at start. */
@Singleton
public class Tenants {
    private final ConfigTree tree;
    /** Tenants whose settings an apply changed since start (config.LiveConfig), by id. */
    private final Map<String, Tenant> applied = new ConcurrentHashMap<>();

    public Tenants(DeputySettings settings) {
        this.tree = ConfigTree.load(settings.configDir());
    }

    /**
     * The broker's own audit chain ({@code _broker}: admin sign-ins, the admin credential) is not a tenant; it has
     * a signing key of its own for its checkpoints, with the broker's tenant defaults (broker.yml).
     */
    public static final String BROKER_CHAIN = "_broker";

    /** The pseudo-tenant that owns the broker key (never a tenant: find() does not return it). */
    public Tenant brokerChain() {
        var d = tree.broker().defaults();
        return new Tenant(BROKER_CHAIN, "Deputy broker", null, d.signingAlg(), d.accessTokenTtl(), d.keyRotationPeriod(),
                d.keyPrepublish());
    }

    public Optional<Tenant> find(String id) {
        if (id == null) {
            return Optional.empty();
        }
        Tenant t = applied.get(id);
        return t != null ? Optional.of(t) : Optional.ofNullable(tree.tenants().get(id));
    }

    public Collection<Tenant> all() {
        if (applied.isEmpty()) {
            return tree.tenants().values();
        }
        List<Tenant> out = new ArrayList<>();
        for (Tenant t : tree.tenants().values()) {
            out.add(applied.getOrDefault(t.id(), t));
        }
        return out;
    }

    /** Replaces a configured tenant's settings (an apply of its tenant.yml); unknown ids are ignored. */
    public void replace(Tenant t) {
        if (tree.tenants().containsKey(t.id())) {
            applied.put(t.id(), t);
        }
    }

    /** The tenant's folder in the config tree the broker started from (not the applied copy). */
    public Optional<Path> sourceDir(String id) {
        return Optional.ofNullable(tree.tenants().get(id)).map(Tenant::configDir);
    }

    public ConfigTree tree() {
        return tree;
    }
}
