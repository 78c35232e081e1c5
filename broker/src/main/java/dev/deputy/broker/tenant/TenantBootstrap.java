package dev.deputy.broker.tenant;

import dev.deputy.broker.keys.CryptoProvider;
import dev.deputy.broker.keys.SigningKeys;
import io.micronaut.context.annotation.Context;
import jakarta.annotation.PostConstruct;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs before the listeners open: records the configured tenants and makes sure each has its signing
 * key, so that metadata and JWKS are served from memory from the first request on.
 */
@Context
public class TenantBootstrap {
    private static final Logger LOG = LoggerFactory.getLogger(TenantBootstrap.class);
    private final Tenants tenants;
    private final TenantStore store;
    private final SigningKeys keys;

    public TenantBootstrap(Tenants tenants, TenantStore store, SigningKeys keys) {
        this.tenants = tenants;
        this.store = store;
        this.keys = keys;
    }

    @PostConstruct
    void start() {
        LOG.info("crypto: {}", CryptoProvider.describe());
        long now = System.currentTimeMillis();
        for (Tenant t : tenants.all()) {
            store.upsert(t.id(), t.displayName(), now);
            keys.reload(t.id());
        }
        LOG.info("tenants: {}", tenants.all().stream().map(Tenant::id).toList());
    }
}
