package dev.deputy.broker.registration;

import dev.deputy.broker.config.YamlFiles;
import dev.deputy.broker.tenant.Tenant;
import dev.deputy.broker.tenant.Tenants;
import io.micronaut.context.annotation.Context;
import jakarta.annotation.PostConstruct;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** Each tenant's {@link RegistrationPolicy}, read strictly at start (a bad file stops the broker, with file and line). */
@Context
public class RegistrationPolicies {
    private final Tenants tenants;
    private final Map<String, RegistrationPolicy> byTenant = new ConcurrentHashMap<>();

    public RegistrationPolicies(Tenants tenants, dev.deputy.broker.config.LiveConfig live) {
        this.tenants = tenants;
        live.listen(byTenant::remove); // read again from the applied folder on the next use
    }

    @PostConstruct
    void load() {
        for (Tenant t : tenants.all()) {
            byTenant.put(t.id(), read(t));
        }
    }

    /** Reads and checks the tenant's registration.yml (defaults when absent). */
    public static RegistrationPolicy read(Tenant t) {
        Path file = t.configDir().resolve("registration.yml");
        return Files.isRegularFile(file) ? YamlFiles.read(file, RegistrationPolicy.class) : RegistrationPolicy.DEFAULT;
    }

    public RegistrationPolicy of(String tenantId) {
        return byTenant.computeIfAbsent(tenantId, id -> tenants.find(id).map(RegistrationPolicies::read)
                .orElse(RegistrationPolicy.DEFAULT));
    }
}
