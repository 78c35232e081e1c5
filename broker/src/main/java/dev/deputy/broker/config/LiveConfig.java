package dev.deputy.broker.config;

import dev.deputy.broker.ephemeral.EphemeralStore;
import dev.deputy.broker.tenant.Tenant;
import dev.deputy.broker.tenant.Tenants;
import io.micronaut.context.annotation.Context;
import jakarta.annotation.PostConstruct;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * The tenant files applied through the admin API (tenant.yml, registration.yml, connectors/, clients/, policies/,
 * trust/), served by every node without a restart. An apply stores the tenant's files ({@link ConfigDocumentStore})
 * and calls {@link #changed}; every node (this one at once, the others through the ephemeral store's pub/sub, as
 * agent and connector changes travel) writes them to {@code <data dir>/live-config/<tenant>/<n>/}, points the
 * tenant at that folder and tells the holders of per-tenant settings to reload ({@link #listen}).
 *
 * <p>A node that starts reads its own config tree, as before: deploy the tree you apply.
 */
@Context
public class LiveConfig {
    private static final Logger LOG = LoggerFactory.getLogger(LiveConfig.class);
    static final String CHANNEL = "config-changes";
    /** The files this mechanism manages, relative to the tenant folder. */
    public static final List<String> FILES = List.of("tenant.yml", "registration.yml");
    public static final List<String> FOLDERS = List.of("connectors", "clients", "policies", "trust");

    private final Tenants tenants;
    private final ConfigDocumentStore store;
    private final EphemeralStore ephemeral;
    private final Path root;
    private final List<Consumer<String>> listeners = new CopyOnWriteArrayList<>();
    private final AtomicLong generation = new AtomicLong(System.currentTimeMillis());

    public LiveConfig(Tenants tenants, ConfigDocumentStore store, EphemeralStore ephemeral, DeputySettings settings) {
        this.tenants = tenants;
        this.store = store;
        this.ephemeral = ephemeral;
        this.root = settings.dataDir().resolve("live-config");
    }

    @PostConstruct
    void subscribe() {
        ephemeral.subscribe(CHANNEL, tenant -> {
            try {
                activate(tenant);
            } catch (RuntimeException e) {
                LOG.error("tenant {}: could not load the applied config: {}", tenant, e.getMessage());
            }
        });
    }

    /** Registers a reload of one tenant's settings (called with the tenant id after its folder changed). */
    public void listen(Consumer<String> reload) {
        listeners.add(reload);
    }

    /** After an apply stored the tenant's files: this node reloads now, every other node on the event. */
    public void changed(String tenant) {
        activate(tenant);
        try {
            ephemeral.publish(CHANNEL, tenant);
        } catch (RuntimeException e) {
            LOG.warn("could not publish a config change of tenant {}: {}", tenant, e.toString());
            throw e;
        }
    }

    synchronized void activate(String tenantId) {
        Tenant current = tenants.find(tenantId).orElse(null);
        if (current == null) {
            return; // a tenant this node does not serve
        }
        Map<String, String> docs = store.documents(tenantId);
        if (docs.isEmpty() || !docs.containsKey("tenant.yml")) {
            return;
        }
        Path base = root.resolve(tenantId);
        Path dir = base.resolve(Long.toString(generation.incrementAndGet()));
        try {
            for (Map.Entry<String, String> d : docs.entrySet()) {
                Path target = dir.resolve(d.getKey()).normalize();
                if (!target.startsWith(dir)) {
                    continue; // never outside the folder (paths are checked on the way in too)
                }
                Files.createDirectories(target.getParent());
                Files.writeString(target, d.getValue());
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot write " + dir + ": " + e.getMessage(), e);
        }
        TenantFile tf = YamlFiles.read(dir.resolve("tenant.yml"), TenantFile.class);
        tenants.replace(Tenant.of(tenantId, dir, tf, tenants.tree().broker().defaults()));
        for (Consumer<String> l : listeners) {
            try {
                l.accept(tenantId);
            } catch (RuntimeException e) {
                LOG.error("tenant {}: a reload failed: {}", tenantId, e.getMessage());
            }
        }
        LOG.info("tenant {}: applied config loaded ({} files)", tenantId, docs.size());
        clean(base, dir);
    }

    private static void clean(Path base, Path keep) {
        try (Stream<Path> s = Files.list(base)) {
            for (Path old : s.filter(p -> !p.equals(keep)).toList()) {
                try (Stream<Path> w = Files.walk(old)) {
                    w.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
                }
            }
        } catch (IOException e) {
            LOG.debug("cannot clean {}: {}", base, e.getMessage());
        }
    }
}
