package dev.deputy.broker.governance;

import dev.deputy.broker.config.AnomalyFile;
import dev.deputy.broker.config.DeputySettings;
import dev.deputy.broker.config.TenantFile;
import dev.deputy.broker.config.YamlFiles;
import jakarta.inject.Singleton;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** Each tenant's {@code anomaly:} block from its tenant.yml, read once (checked at start with the rest of the file). */
@Singleton
public class AnomalySettings {
    private static final AnomalyFile NONE = new AnomalyFile(null, null);
    private final DeputySettings settings;
    private final Map<String, AnomalyFile> cache = new ConcurrentHashMap<>();

    public AnomalySettings(DeputySettings settings) {
        this.settings = settings;
    }

    public AnomalyFile of(String tenant) {
        return cache.computeIfAbsent(tenant, this::load);
    }

    private AnomalyFile load(String tenant) {
        if (tenant.startsWith("_")) {
            return NONE; // the broker's own chain
        }
        Path file = settings.configDir().resolve("tenants").resolve(tenant).resolve("tenant.yml");
        try {
            return Files.exists(file) ? YamlFiles.read(file, TenantFile.class).anomaly() : NONE;
        } catch (RuntimeException e) {
            return NONE; // a bad file stops the broker at start (ConfigTree); a tenant created later without one has no rules
        }
    }
}
