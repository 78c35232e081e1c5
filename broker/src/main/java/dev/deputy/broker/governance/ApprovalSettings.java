package dev.deputy.broker.governance;

import dev.deputy.broker.config.ApprovalsFile;
import dev.deputy.broker.config.DeputySettings;
import dev.deputy.broker.config.TenantFile;
import dev.deputy.broker.config.YamlFiles;
import jakarta.inject.Singleton;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** Each tenant's {@code approvals:} block from its tenant.yml, read once (checked at start with the rest of the file). */
@Singleton
public class ApprovalSettings {
    private final DeputySettings settings;
    private final Map<String, ApprovalsFile> cache = new ConcurrentHashMap<>();

    public ApprovalSettings(DeputySettings settings) {
        this.settings = settings;
    }

    public ApprovalsFile of(String tenant) {
        return cache.computeIfAbsent(tenant, this::load);
    }

    private ApprovalsFile load(String tenant) {
        if (tenant.startsWith("_")) {
            return ApprovalsFile.NONE;
        }
        Path file = settings.configDir().resolve("tenants").resolve(tenant).resolve("tenant.yml");
        try {
            return Files.exists(file) ? YamlFiles.read(file, TenantFile.class).approvals() : ApprovalsFile.NONE;
        } catch (RuntimeException e) {
            return ApprovalsFile.NONE; // a bad file stops the broker at start (ConfigTree)
        }
    }
}
