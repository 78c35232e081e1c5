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

    private final DeputySettings settings;
    private final Map<String, Setting> cache = new ConcurrentHashMap<>();

    public TenantDormancy(DeputySettings settings) {
        this.settings = settings;
    }

    public Setting of(String tenant) {
        return cache.computeIfAbsent(tenant, this::load);
    }

    private Setting load(String tenant) {
        Path file = settings.configDir().resolve("tenants").resolve(tenant).resolve("tenant.yml");
        TenantFile.DormancyFile d = Files.exists(file) ? YamlFiles.read(file, TenantFile.class).dormancy() : null;
        return new Setting(d == null || d.period() == null ? DEFAULT_PERIOD : d.period(),
                d != null && Boolean.TRUE.equals(d.autoSuspend()));
    }
}
