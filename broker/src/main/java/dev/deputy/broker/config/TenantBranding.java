package dev.deputy.broker.config;

import jakarta.inject.Singleton;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Each tenant's {@code branding:} from its {@code tenant.yml} (validated when the config tree loads), read once.
 * Unset: Deputy's own look.
 */
@Singleton
public class TenantBranding {
    private static final TenantFile.BrandingFile NONE = new TenantFile.BrandingFile(null, null, null, null);
    private final DeputySettings settings;
    private final Map<String, TenantFile.BrandingFile> cache = new ConcurrentHashMap<>();

    public TenantBranding(DeputySettings settings) {
        this.settings = settings;
    }

    public TenantFile.BrandingFile of(String tenant) {
        return cache.computeIfAbsent(tenant, this::load);
    }

    private TenantFile.BrandingFile load(String tenant) {
        Path file = settings.configDir().resolve("tenants").resolve(tenant).resolve("tenant.yml");
        if (!Files.exists(file)) {
            return NONE;
        }
        TenantFile.BrandingFile b = YamlFiles.read(file, TenantFile.class).branding();
        return b == null ? NONE : b;
    }
}
