package dev.deputy.broker.tenant;

import dev.deputy.broker.config.ConfigTree;
import dev.deputy.broker.config.DeputySettings;
import jakarta.inject.Singleton;

import java.util.Collection;
import java.util.Optional;

/** The tenants loaded from the config tree at start. */
@Singleton
public class Tenants {
    private final ConfigTree tree;

    public Tenants(DeputySettings settings) {
        this.tree = ConfigTree.load(settings.configDir());
    }

    public Optional<Tenant> find(String id) {
        return id == null ? Optional.empty() : Optional.ofNullable(tree.tenants().get(id));
    }

    public Collection<Tenant> all() {
        return tree.tenants().values();
    }

    public ConfigTree tree() {
        return tree;
    }
}
