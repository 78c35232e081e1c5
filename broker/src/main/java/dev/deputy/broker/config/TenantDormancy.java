package dev.deputy.broker.config;

import jakarta.inject.Singleton;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Each tenant's dormancy settings from its {@code tenant.yml} ({@code dormancy: {period, auto_suspend}}),
 * read once; tenants without the section get 90 days and no automatic suspension.
 */
@Singleton
public class TenantDormancy {
    public static final Duration DEFAULT_PERIOD = Duration.ofDays(90);

    public record Setting(Duration period, boolean autoSuspend) {
    }

    private final dev.deputy.broker.tenant.Tenants tenants;
    private final Map<String, Setting> cache = new ConcurrentHashMap<>();

    public TenantDormancy(dev.deputy.broker.tenant.Tenants tenants, LiveConfig live) {
        this.tenants = tenants;
        live.listen(cache::remove); // an apply of tenant.yml: read again on the next use
    }

    public Setting of(String tenant) {
        return cache.computeIfAbsent(tenant, this::load);
    }

    private Setting load(String tenant) {
        Path dir = tenants.find(tenant).map(dev.deputy.broker.tenant.Tenant::configDir).orElse(null);
        Path file = dir == null ? Path.of("/nonexistent/tenant.yml") : dir.resolve("tenant.yml");
        TenantFile.DormancyFile d = Files.exists(file) ? YamlFiles.read(file, TenantFile.class).dormancy() : null;
        return new Setting(d == null || d.period() == null ? DEFAULT_PERIOD : d.period(),
                d != null && Boolean.TRUE.equals(d.autoSuspend()));
    }
}
