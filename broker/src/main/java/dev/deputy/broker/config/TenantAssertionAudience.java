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
    private final DeputySettings settings;
    private final Map<String, Boolean> cache = new ConcurrentHashMap<>();

    public TenantAssertionAudience(DeputySettings settings) {
        this.settings = settings;
    }

    /** True when the tenant set {@code client_assertion_audience: issuer_or_endpoints}. */
    public boolean endpointsAllowed(String tenant) {
        return cache.computeIfAbsent(tenant, this::load);
    }

    private boolean load(String tenant) {
        Path file = settings.configDir().resolve("tenants").resolve(tenant).resolve("tenant.yml");
        return Files.exists(file) && TenantFile.AUD_ISSUER_OR_ENDPOINTS.equals(
                YamlFiles.read(file, TenantFile.class).clientAssertionAudience());
    }
}
