package dev.deputy.broker.config;

import dev.deputy.broker.tenant.Tenant;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The operator's policy-as-code tree (see config/README.md):
 * <pre>
 * broker.yml
 * tenants/&lt;tenant&gt;/tenant.yml
 * tenants/&lt;tenant&gt;/{agents,roles,connectors,resources,clients,policies}/*.yml
 * </pre>
 * Loading is all-or-nothing: the first bad file stops it with its path, line and reason.
 */
public final class ConfigTree {
    public static final Pattern TENANT_ID = Pattern.compile("[a-z0-9][a-z0-9-]{0,62}");

    private final Path root;
    private final BrokerFile broker;
    private final Map<String, Tenant> tenants;

    private ConfigTree(Path root, BrokerFile broker, Map<String, Tenant> tenants) {
        this.root = root;
        this.broker = broker;
        this.tenants = tenants;
    }

    public static ConfigTree load(Path root) {
        if (!Files.isDirectory(root)) {
            throw new ConfigException(root, 0, "config directory does not exist (set DEPUTY_CONFIG_DIR)");
        }
        Path brokerYml = root.resolve("broker.yml");
        BrokerFile broker = Files.exists(brokerYml) ? YamlFiles.read(brokerYml, BrokerFile.class) : BrokerFile.DEFAULT;
        Map<String, Tenant> tenants = new LinkedHashMap<>();
        Path tenantsDir = root.resolve("tenants");
        for (Path dir : subdirectories(tenantsDir)) {
            String id = dir.getFileName().toString();
            if (!TENANT_ID.matcher(id).matches()) {
                throw new ConfigException(dir, 0, "tenant folder name must match " + TENANT_ID.pattern());
            }
            Path file = dir.resolve("tenant.yml");
            if (!Files.exists(file)) {
                throw new ConfigException(file, 0, "missing: every tenant folder needs a tenant.yml");
            }
            TenantFile tf = YamlFiles.read(file, TenantFile.class);
            tenants.put(id, Tenant.of(id, dir, tf, broker.defaults()));
        }
        if (tenants.isEmpty()) {
            throw new ConfigException(tenantsDir, 0, "no tenants: create tenants/<id>/tenant.yml");
        }
        return new ConfigTree(root, broker, Map.copyOf(tenants));
    }

    private static List<Path> subdirectories(Path dir) {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(dir)) {
            return new ArrayList<>(s.filter(Files::isDirectory).sorted().toList());
        } catch (IOException e) {
            throw new ConfigException(dir, 0, "cannot list: " + e.getMessage());
        }
    }

    public Path root() {
        return root;
    }

    public BrokerFile broker() {
        return broker;
    }

    public Map<String, Tenant> tenants() {
        return tenants;
    }
}
