package dev.deputy.broker.config;

import jakarta.inject.Singleton;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Each tenant's {@code client_assertion_audience} from its {@code tenant.yml}, read once: whether a client assertion
 * may name an endpoint URL as its audience besides the issuer (default: the issuer alone).
 */
@Singleton
public class TenantAssertionAudience {
    private final dev.deputy.broker.tenant.Tenants tenants;
    private final Map<String, Boolean> cache = new ConcurrentHashMap<>();

    public TenantAssertionAudience(dev.deputy.broker.tenant.Tenants tenants, LiveConfig live) {
        this.tenants = tenants;
        live.listen(cache::remove); // an apply of tenant.yml: read again on the next use
    }

    /** True when the tenant set {@code client_assertion_audience: issuer_or_endpoints}. */
    public boolean endpointsAllowed(String tenant) {
        return cache.computeIfAbsent(tenant, this::load);
    }

    private boolean load(String tenant) {
        Path dir = tenants.find(tenant).map(dev.deputy.broker.tenant.Tenant::configDir).orElse(null);
        Path file = dir == null ? Path.of("/nonexistent/tenant.yml") : dir.resolve("tenant.yml");
        return Files.exists(file) && TenantFile.AUD_ISSUER_OR_ENDPOINTS.equals(
                YamlFiles.read(file, TenantFile.class).clientAssertionAudience());
    }
}
