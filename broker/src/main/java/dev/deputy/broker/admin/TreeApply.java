package dev.deputy.broker.admin;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.deputy.broker.authorize.ClientFile;
import dev.deputy.broker.authorize.RegisteredClients;
import dev.deputy.broker.config.ConfigDocumentStore;
import dev.deputy.broker.config.ConfigException;
import dev.deputy.broker.config.LiveConfig;
import dev.deputy.broker.config.PolicyApply;
import dev.deputy.broker.config.TenantFile;
import dev.deputy.broker.config.YamlFiles;
import dev.deputy.broker.federation.SecretEnv;
import dev.deputy.broker.federation.TenantConnectors;
import dev.deputy.broker.federation.TrustedIssuers;
import dev.deputy.broker.policy.Policies;
import dev.deputy.broker.registration.RegistrationPolicy;
import dev.deputy.broker.tenant.Tenants;
import jakarta.inject.Singleton;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Plan and apply of a tenant's files beyond agents, roles and resources: {@code tenant.yml} (settings, rate limits),
 * {@code registration.yml}, {@code connectors/}, {@code clients/}, {@code policies/} (delegation rules) and
 * {@code trust/} (trusted issuers). Each submitted kind is checked by the parser that loads it at start; the plan
 * lists each file created, changed (top-level keys) or deleted. Applying stores the tenant's files and every node
 * loads them ({@link LiveConfig}); config-managed client rows follow {@code clients/} at once.
 */
@Singleton
class TreeApply {
    /** Kind names as a request's {@code kinds} says them, and the plan's kind of each. */
    static final Map<String, String> KINDS = Map.of("tenant", "tenant", "registration", "registration",
            "connectors", "connector", "clients", "client", "policies", "policy", "trust", "trust");
    private static final TypeReference<Map<String, Object>> MAP = new TypeReference<>() {
    };

    private final Tenants tenants;
    private final ConfigDocumentStore store;
    private final LiveConfig live;
    private final TenantConnectors connectors;
    private final RegisteredClients clients;

    TreeApply(Tenants tenants, ConfigDocumentStore store, LiveConfig live, TenantConnectors connectors,
              RegisteredClients clients) {
        this.tenants = tenants;
        this.store = store;
        this.live = live;
        this.connectors = connectors;
        this.clients = clients;
    }

    /** Plans the submitted kinds of {@code dir} (a tenant folder) against what the tenant serves now. */
    PolicyApply.Extra plan(String tenant, Path dir, Set<String> kinds) {
        if (kinds.isEmpty()) {
            return PolicyApply.Extra.NONE;
        }
        Path currentDir = tenants.find(tenant).orElseThrow().configDir();
        Map<String, String> current = read(currentDir);
        Map<String, String> submitted = read(dir);
        Map<String, String> next = new TreeMap<>();
        current.forEach((path, content) -> {
            if (!kinds.contains(kindOf(path))) {
                next.put(path, content);
            }
        });
        submitted.forEach((path, content) -> {
            if (kinds.contains(kindOf(path))) {
                next.put(path, content);
            }
        });
        List<ConfigException> errors = new ArrayList<>();
        check(tenant, dir, kinds, errors);
        List<PolicyApply.Change> changes = new ArrayList<>();
        Set<String> paths = new TreeSet<>(current.keySet());
        paths.addAll(next.keySet());
        boolean clientsChanged = false;
        for (String path : paths) {
            String kind = kindOf(path);
            if (!kinds.contains(kind)) {
                continue;
            }
            String have = current.get(path);
            String want = next.get(path);
            if (Objects.equals(have, want)) {
                continue;
            }
            clientsChanged |= "clients".equals(kind);
            String id = path.contains("/") ? path.substring(path.indexOf('/') + 1).replaceFirst("\\.ya?ml$", "")
                    : path.replaceFirst("\\.ya?ml$", "");
            if (want == null) {
                changes.add(new PolicyApply.Change(KINDS.get(kind), id, "delete", null,
                        List.of(path + ": no file any more")));
            } else if (have == null) {
                changes.add(new PolicyApply.Change(KINDS.get(kind), id, "create", dir.resolve(path), List.of(path)));
            } else {
                changes.add(new PolicyApply.Change(KINDS.get(kind), id, "update", dir.resolve(path), diff(have, want)));
            }
        }
        if (kinds.contains("tenant") && !next.containsKey("tenant.yml")) {
            errors.add(new ConfigException(dir.resolve("tenant.yml"), 0, "missing: every tenant folder needs a tenant.yml"));
        }
        boolean syncClients = clientsChanged;
        Map<String, String> documents = Map.copyOf(next);
        return new PolicyApply.Extra(changes, errors, () -> {
            store.replace(tenant, documents, System.currentTimeMillis());
            live.changed(tenant);
            if (syncClients) {
                clients.sync(tenants.find(tenant).orElseThrow());
            }
        });
    }

    private void check(String tenant, Path dir, Set<String> kinds, List<ConfigException> errors) {
        for (String kind : kinds) {
            try {
                switch (kind) {
                    case "tenant" -> {
                        if (Files.isRegularFile(dir.resolve("tenant.yml"))) {
                            YamlFiles.read(dir.resolve("tenant.yml"), TenantFile.class);
                        }
                    }
                    case "registration" -> {
                        if (Files.isRegularFile(dir.resolve("registration.yml"))) {
                            YamlFiles.read(dir.resolve("registration.yml"), RegistrationPolicy.class);
                        }
                    }
                    case "connectors" -> connectors.loadFiles(tenant, dir.resolve("connectors"));
                    case "clients" -> {
                        for (ClientFile f : RegisteredClients.check(dir.resolve("clients"))) {
                            String env = f.clientSecretEnv();
                            if (env != null && (SecretEnv.get(env) == null || SecretEnv.get(env).isEmpty())) {
                                throw new ConfigException(dir.resolve("clients"), 0, "client " + f.clientId()
                                        + ": client_secret_env: environment variable " + env + " is not set on the broker");
                            }
                        }
                    }
                    case "policies" -> Policies.load(dir.resolve("policies"));
                    case "trust" -> TrustedIssuers.load(dir.resolve("trust"));
                    default -> {
                    }
                }
            } catch (ConfigException e) {
                errors.add(e);
            } catch (RuntimeException e) {
                errors.add(new ConfigException(dir.resolve(kind), 0, String.valueOf(e.getMessage())));
            }
        }
    }

    /** The managed files of a tenant folder, path → content. */
    static Map<String, String> read(Path dir) {
        Map<String, String> out = new TreeMap<>();
        try {
            for (String f : LiveConfig.FILES) {
                if (Files.isRegularFile(dir.resolve(f))) {
                    out.put(f, Files.readString(dir.resolve(f)));
                }
            }
            for (String folder : LiveConfig.FOLDERS) {
                for (Path p : YamlFiles.list(dir.resolve(folder))) {
                    out.put(folder + "/" + p.getFileName(), Files.readString(p));
                }
            }
        } catch (IOException e) {
            throw new ConfigException(dir, 0, "cannot read: " + e.getMessage());
        }
        return out;
    }

    static String kindOf(String path) {
        int slash = path.indexOf('/');
        if (slash > 0) {
            return path.substring(0, slash);
        }
        return path.startsWith("tenant.") ? "tenant" : path.startsWith("registration.") ? "registration" : path;
    }

    /** Top-level keys that differ (values shortened), or "content changed" when a side is not a YAML mapping. */
    private static List<String> diff(String have, String want) {
        try {
            Map<String, Object> a = YamlFiles.mapper().readValue(have, MAP);
            Map<String, Object> b = YamlFiles.mapper().readValue(want, MAP);
            if (a == null || b == null) {
                return List.of("content changed");
            }
            List<String> out = new ArrayList<>();
            Set<String> keys = new TreeSet<>(a.keySet());
            keys.addAll(b.keySet());
            for (String k : keys) {
                if (!Objects.equals(a.get(k), b.get(k))) {
                    out.add(k + ": " + show(a.get(k)) + " -> " + show(b.get(k)));
                }
            }
            return out.isEmpty() ? List.of("formatting or comments changed") : out;
        } catch (IOException | RuntimeException e) {
            return List.of("content changed");
        }
    }

    private static String show(Object o) {
        if (o == null) {
            return "(none)";
        }
        String s = o instanceof Map<?, ?> m ? new LinkedHashMap<>(m).toString() : String.valueOf(o);
        return s.length() > 120 ? s.substring(0, 120) + "..." : s;
    }
}
