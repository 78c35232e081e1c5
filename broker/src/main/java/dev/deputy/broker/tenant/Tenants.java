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
        return id == null ? Optional.empty() : Optional.ofNullable(tree.tenants().get(id));
    }

    public Collection<Tenant> all() {
        return tree.tenants().values();
    }

    public ConfigTree tree() {
        return tree;
    }
}
