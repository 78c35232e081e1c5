package dev.deputy.broker.federation;

import dev.deputy.broker.config.ConfigException;
import dev.deputy.broker.config.YamlFiles;
import dev.deputy.broker.ephemeral.EphemeralStore;
import dev.deputy.broker.keys.SecretBox;
import dev.deputy.broker.tenant.Tenant;
import dev.deputy.broker.tenant.Tenants;
import dev.deputy.connectors.ConnectorConfig;
import dev.deputy.connectors.ConnectorException;
import dev.deputy.connectors.ConnectorOptions;
import dev.deputy.connectors.ConnectorRegistry;
import dev.deputy.connectors.Connectors;
import dev.deputy.connectors.UpstreamConnector;
import io.micronaut.context.annotation.Context;
import io.micronaut.core.annotation.Nullable;
import jakarta.annotation.PostConstruct;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * A tenant's upstream connectors: the files in {@code config/tenants/<t>/connectors/*.yml} (read at start,
 * all-or-nothing, {@code managed_by: config}) plus the connectors added through the admin API (the
 * {@code connectors} table, secrets sealed with the master key). Discovery is lazy: building a connector
 * contacts no IdP, so an absent IdP never breaks start-up.
 *
 * <p>Broker-level keys in a connector map (the rest goes to {@link ConnectorConfig#fromMap}):
 * {@code enabled} (default true), {@code default} (the tenant's fallback for home-realm discovery),
 * {@code display_name} (chooser page), {@code client_secret_env} (name of the environment variable that holds
 * the upstream client secret; literal secrets are refused in files).
 */
@Context
public class TenantConnectors {
    private static final Logger LOG = LoggerFactory.getLogger(TenantConnectors.class);
    static final String CHANNEL = "connector-changes";
    public static final Set<String> BROKER_KEYS = Set.of("enabled", "default", "display_name", "client_secret_env",
            "token_exchange", "token_exchange_audiences");
    public static final Set<String> CONNECTOR_KEYS = Set.of("id", "type", "issuer", "client_id", "client_secret", "client_auth",
            "private_jwk", "scopes", "redirect_uri", "claims", "role_mapping", "email_domains", "userinfo", "allowed_algs",
            "clock_skew_seconds", "okta", "auth0", "entra", "keycloak");

    /** One connector as the tenant sees it. {@code config} is the map without any secret (safe to show). */
    public record Entry(String id, String source, boolean enabled, boolean isDefault, String displayName,
                        Map<String, Object> config, UpstreamConnector connector) {
        public String type() {
            return connector.config().type().name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** A tenant's view, rebuilt whenever an API connector changes. */
    record View(List<Entry> entries, ConnectorRegistry enabled) {
    }

    private final Tenants tenants;
    private final ConnectorStore store;
    private final SecretBox secrets;
    private final EphemeralStore ephemeral;
    private final ConnectorOptions options;
    private final Function<String, String> env;
    private final Map<String, List<Entry>> fileEntries = new ConcurrentHashMap<>();
    private final Map<String, View> views = new ConcurrentHashMap<>();

    public TenantConnectors(Tenants tenants, ConnectorStore store, SecretBox secrets, EphemeralStore ephemeral,
                            @Nullable ConnectorOptions options, dev.deputy.broker.tracing.Traces traces,
                            dev.deputy.broker.config.LiveConfig live) {
        this.tenants = tenants;
        this.store = store;
        this.secrets = secrets;
        this.ephemeral = ephemeral;
        ConnectorOptions o = options != null ? options : ConnectorOptions.defaults();
        // traces: a span per upstream call when tracing is on (the traceparent is sent either way)
        this.options = o.tracer() == null && traces.on() ? o.withTracer(traces.tracer()) : o;
        this.env = SecretEnv::get;
        // an apply of connectors/ reaches every node without a restart
        live.listen(id -> tenants.find(id).ifPresent(t -> {
            fileEntries.put(id, loadFiles(id, t.configDir().resolve("connectors")));
            views.remove(id);
        }));
    }

    @PostConstruct
    void load() {
        for (Tenant t : tenants.all()) {
            fileEntries.put(t.id(), loadFiles(t.id(), t.configDir().resolve("connectors")));
        }
        ephemeral.subscribe(CHANNEL, views::remove);
    }

    /** Reads and checks a connectors/ folder (all-or-nothing, path:line: reason); contacts no IdP. */
    public List<Entry> loadFiles(String tenantId, Path dir) {
        List<Entry> out = new ArrayList<>();
        for (Path file : YamlFiles.list(dir)) {
            // syntax errors, an empty file: the same one-line reasons with their line as every other config file
            @SuppressWarnings("unchecked")
            Map<String, Object> map = YamlFiles.read(file, Map.class);
            try {
                if (map.containsKey("client_secret")) {
                    throw new IllegalArgumentException("do not put client_secret in a file: name an environment variable "
                            + "with client_secret_env, or set the secret through the admin API");
                }
                boolean enabled = bool(map, "enabled", true);
                String secret = null;
                Object envName = map.get("client_secret_env");
                if (envName != null) {
                    secret = env.apply(envName.toString());
                    if ((secret == null || secret.isEmpty()) && enabled) {
                        throw new IllegalArgumentException("client_secret_env: environment variable " + envName + " is not set");
                    }
                }
                Entry e = build(tenantId, map, secret, "config", enabled, bool(map, "default", false));
                String expected = e.id() + ".yml";
                out.add(e);
                LOG.info("tenant {}: connector {} ({}) from {}{}", tenantId, e.id(), e.type(), file.getFileName(),
                        enabled ? "" : " (disabled)");
                if (!file.getFileName().toString().startsWith(e.id() + ".")) {
                    LOG.warn("{}: connector id '{}' differs from the file name (expected {})", file, e.id(), expected);
                }
            } catch (ConnectorException | IllegalArgumentException e) {
                throw new ConfigException(file, fieldLine(file, e.getMessage()), e.getMessage());
            }
        }
        checkUnique(tenantId, out);
        return List.copyOf(out);
    }

    private static final java.util.regex.Pattern FIELD = java.util.regex.Pattern.compile(
            "(?:field|key) '([a-z_]+)(?:\\.[^']*)?'|^'?([a-z_]+)'?: |put ([a-z_]+) in a file");

    /** The line of the field a connector error names ({@code field 'issuer'}, {@code unknown key 'x'}); 0 if none. */
    static int fieldLine(Path file, String message) {
        java.util.regex.Matcher m = message == null ? null : FIELD.matcher(message);
        if (m == null || !m.find()) {
            return 0;
        }
        String key = m.group(1) != null ? m.group(1) : m.group(2) != null ? m.group(2) : m.group(3);
        try {
            return YamlFiles.keyLine(java.nio.file.Files.readString(file), List.of(key));
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    /** Builds one entry from a connector map (file or API) and the plain secret, checking the broker keys. */
    Entry build(String tenantId, Map<String, Object> map, String secret, String source, boolean enabled, boolean isDefault) {
        for (String k : map.keySet()) {
            if (!BROKER_KEYS.contains(k) && !CONNECTOR_KEYS.contains(k)) {
                List<String> known = new ArrayList<>(CONNECTOR_KEYS);
                known.addAll(BROKER_KEYS);
                known.remove("client_secret");
                throw new IllegalArgumentException(YamlFiles.unknownKey(k, known.stream().sorted().toList()));
            }
        }
        Map<String, Object> forConnector = new LinkedHashMap<>(map);
        BROKER_KEYS.forEach(forConnector::remove);
        forConnector.remove("client_secret");
        Map<String, Object> safe = new LinkedHashMap<>(forConnector);
        if (map.get("client_secret_env") != null) {
            safe.put("client_secret_env", map.get("client_secret_env"));
        }
        for (String k : List.of("token_exchange", "token_exchange_audiences")) {
            if (map.get(k) != null) {
                safe.put(k, map.get(k));
            }
        }
        if (secret != null) {
            forConnector.put("client_secret", secret);
        } else if (!"private_key_jwt".equals(map.get("client_auth"))) {
            // A disabled connector without its secret still shows in list/show; logins never reach it.
            forConnector.put("client_secret", "unset");
        }
        safe.remove("private_jwk");
        UpstreamConnector c = Connectors.create(ConnectorConfig.fromMap(forConnector), options);
        Object dn = map.get("display_name");
        return new Entry(c.id(), source, enabled, isDefault, dn == null ? c.id() : dn.toString(), safe, c);
    }

    private static boolean bool(Map<String, Object> map, String key, boolean dflt) {
        Object v = map.get(key);
        if (v == null) {
            return dflt;
        }
        if (v instanceof Boolean b) {
            return b;
        }
        throw new IllegalArgumentException("'" + key + "' must be true or false");
    }

    private static void checkUnique(String tenantId, List<Entry> entries) {
        long defaults = entries.stream().filter(e -> e.isDefault() && e.enabled()).count();
        if (defaults > 1) {
            throw new IllegalArgumentException("tenant " + tenantId + ": more than one enabled connector has default: true");
        }
        // duplicate ids and email domains claimed twice
        ConnectorRegistry.of(entries.stream().map(Entry::connector).toList());
    }

    // ------------------------------------------------------------------------------------------ queries

    View view(String tenantId) {
        return views.computeIfAbsent(tenantId, t -> {
            List<Entry> all = new ArrayList<>(fileEntries.getOrDefault(t, List.of()));
            for (StoredConnector s : store.list(t)) {
                try {
                    String secret = s.sealedSecret() == null ? null : secrets.openString(s.sealedSecret(), aad(t, s.id()));
                    all.add(build(t, s.config(), secret, "api", s.enabled(), s.isDefault()));
                } catch (RuntimeException e) {
                    LOG.warn("tenant {}: stored connector {} cannot be built: {}", t, s.id(), e.getMessage());
                }
            }
            ConnectorRegistry enabled = ConnectorRegistry.of(all.stream().filter(Entry::enabled).map(Entry::connector).toList());
            return new View(List.copyOf(all), enabled);
        });
    }

    public List<Entry> list(String tenantId) {
        return view(tenantId).entries();
    }

    public Optional<Entry> entry(String tenantId, String id) {
        return list(tenantId).stream().filter(e -> e.id().equals(id)).findFirst();
    }

    /** Enabled connectors, with home-realm discovery by email domain. */
    public ConnectorRegistry registry(String tenantId) {
        return view(tenantId).enabled();
    }

    /**
     * Enabled connectors whose IdP's tokens may be used as subject tokens in token exchange
     * ({@code token_exchange: true} in the connector file), with the audiences their tokens may carry:
     * the connector's own client_id plus {@code token_exchange_audiences}.
     */
    public List<Map.Entry<Entry, Set<String>>> trustedForExchange(String tenantId) {
        List<Map.Entry<Entry, Set<String>>> out = new ArrayList<>();
        for (Entry e : list(tenantId)) {
            if (e.enabled() && Boolean.TRUE.equals(e.config().get("token_exchange"))) {
                Set<String> aud = new java.util.LinkedHashSet<>();
                aud.add(e.connector().config().clientId());
                if (e.config().get("token_exchange_audiences") instanceof List<?> l) {
                    l.forEach(a -> aud.add(String.valueOf(a)));
                }
                out.add(Map.entry(e, Set.copyOf(aud)));
            }
        }
        return out;
    }

    public Optional<Entry> defaultConnector(String tenantId) {
        return list(tenantId).stream().filter(e -> e.enabled() && e.isDefault()).findFirst();
    }

    // ------------------------------------------------------------------------------------------ admin API

    /** Adds an API-managed connector; the secret is sealed, never stored or returned in clear. */
    public Entry add(String tenantId, Map<String, Object> map, String clientSecret, long now) {
        if (map.containsKey("client_secret")) {
            clientSecret = String.valueOf(map.get("client_secret"));
        }
        Map<String, Object> config = new LinkedHashMap<>(map);
        config.remove("client_secret");
        String secret = clientSecret;
        if (secret == null && config.get("client_secret_env") != null) {
            secret = env.apply(config.get("client_secret_env").toString());
        }
        boolean enabled = bool(config, "enabled", true);
        boolean isDefault = bool(config, "default", false);
        if ((secret == null || secret.isEmpty()) && !"private_key_jwt".equals(config.get("client_auth"))) {
            throw new IllegalArgumentException("client_secret is required (or client_secret_env naming a variable set on the broker)");
        }
        Entry e = build(tenantId, config, secret, "api", enabled, isDefault);
        if (entry(tenantId, e.id()).isPresent()) {
            throw new IllegalStateException("connector '" + e.id() + "' exists");
        }
        List<Entry> after = new ArrayList<>(list(tenantId));
        after.add(e);
        checkUnique(tenantId, after);
        String sealed = clientSecret == null ? null : secrets.sealString(clientSecret, aad(tenantId, e.id()));
        if (!store.insert(new StoredConnector(tenantId, e.id(), config, sealed, enabled, isDefault, now, now))) {
            throw new IllegalStateException("connector '" + e.id() + "' exists");
        }
        changed(tenantId);
        return entry(tenantId, e.id()).orElse(e);
    }

    /** Enables or disables an API-managed connector (file connectors change in their file). */
    public void setEnabled(String tenantId, String id, boolean enabled, long now) {
        requireApiManaged(tenantId, id);
        if (enabled) {
            StoredConnector s = store.find(tenantId, id).orElseThrow();
            if (s.isDefault() && defaultConnector(tenantId).filter(d -> !d.id().equals(id)).isPresent()) {
                throw new IllegalArgumentException("another enabled connector is the default");
            }
        }
        store.setEnabled(tenantId, id, enabled, now);
        changed(tenantId);
    }

    public void remove(String tenantId, String id) {
        requireApiManaged(tenantId, id);
        store.delete(tenantId, id);
        changed(tenantId);
    }

    private void requireApiManaged(String tenantId, String id) {
        Entry e = entry(tenantId, id).orElseThrow(() -> new java.util.NoSuchElementException("no connector '" + id + "'"));
        if (!"api".equals(e.source())) {
            throw new UnsupportedOperationException("connector '" + id + "' is managed by config/tenants/" + tenantId
                    + "/connectors/: change it there");
        }
    }

    private void changed(String tenantId) {
        views.remove(tenantId);
        ephemeral.publish(CHANNEL, tenantId);
    }

    private static String aad(String tenantId, String id) {
        return "connector:" + tenantId + ":" + id;
    }
}
