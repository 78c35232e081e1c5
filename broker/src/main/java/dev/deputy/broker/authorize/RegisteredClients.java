package dev.deputy.broker.authorize;

import dev.deputy.broker.agent.ClientLookup;
import dev.deputy.broker.agent.ClientSecrets;
import dev.deputy.broker.agent.ClientStore;
import dev.deputy.broker.agent.OAuthClient;
import dev.deputy.broker.config.ConfigException;
import dev.deputy.broker.config.YamlFiles;
import dev.deputy.broker.tenant.Tenant;
import dev.deputy.broker.tenant.Tenants;
import io.micronaut.context.annotation.Context;
import jakarta.annotation.PostConstruct;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

/**
 * Loads the pre-registered clients of {@code config/tenants/<t>/clients/*.yml} into the {@code clients} table
 * at start ({@code managed_by: config}; rows of files that disappeared are removed; rows added otherwise,
 * e.g. by DCR, are left alone) and looks clients up.
 */
@Context
public class RegisteredClients {
    private static final Logger LOG = LoggerFactory.getLogger(RegisteredClients.class);
    private final Tenants tenants;
    private final ClientStore store;
    private final ClientLookup lookup;
    private final Function<String, String> env = dev.deputy.broker.federation.SecretEnv::get;

    public RegisteredClients(Tenants tenants, ClientStore store, ClientLookup lookup) {
        this.tenants = tenants;
        this.store = store;
        this.lookup = lookup;
    }

    @PostConstruct
    void load() {
        for (Tenant t : tenants.all()) {
            sync(t);
        }
    }

    /**
     * Brings the tenant's config-managed client rows in line with its {@code clients/} folder (an apply calls it on
     * the node that applies; the rows are shared by every node).
     */
    public void sync(Tenant t) {
        long now = System.currentTimeMillis();
        {
            Set<String> seen = new HashSet<>();
            for (Path file : YamlFiles.list(t.configDir().resolve("clients"))) {
                ClientFile f = YamlFiles.read(file, ClientFile.class);
                if (!seen.add(f.clientId())) {
                    throw new ConfigException(file, 0, "duplicate client_id '" + f.clientId() + "'");
                }
                String hash = null;
                if (f.clientSecretEnv() != null) {
                    String secret = env.apply(f.clientSecretEnv());
                    if (secret == null || secret.isEmpty()) {
                        throw new ConfigException(file, 0, "client_secret_env: environment variable " + f.clientSecretEnv()
                                + " is not set");
                    }
                    Optional<OAuthClient> old = store.find(t.id(), f.clientId());
                    hash = old.filter(o -> ClientSecrets.isCurrent(o.secretHash()) && ClientSecrets.verify(secret, o.secretHash()))
                            .map(OAuthClient::secretHash)
                            .orElseGet(() -> ClientSecrets.hash(secret));
                }
                long created = store.find(t.id(), f.clientId()).map(OAuthClient::createdAt).orElse(now);
                store.save(new OAuthClient(t.id(), f.clientId(), f.name(), f.redirectUris(), f.internal(),
                        f.tokenEndpointAuthMethod(), hash, "config", created, now));
            }
            for (OAuthClient c : store.list(t.id())) {
                if ("config".equals(c.managedBy()) && !seen.contains(c.clientId())) {
                    store.delete(t.id(), c.clientId());
                }
            }
            if (!seen.isEmpty()) {
                LOG.info("tenant {}: clients {}", t.id(), seen);
            }
        }
    }

    /** Reads and checks a clients/ folder without changing anything (plan); path:line: reason on the first bad file. */
    public static List<ClientFile> check(Path dir) {
        List<ClientFile> out = new java.util.ArrayList<>();
        Set<String> seen = new HashSet<>();
        for (Path file : YamlFiles.list(dir)) {
            ClientFile f = YamlFiles.read(file, ClientFile.class);
            if (!seen.add(f.clientId())) {
                throw new ConfigException(file, 0, "duplicate client_id '" + f.clientId() + "'");
            }
            out.add(f);
        }
        return out;
    }

    public Optional<OAuthClient> find(String tenantId, String clientId) {
        if (clientId == null || clientId.isEmpty() || clientId.length() > 255) {
            return Optional.empty();
        }
        // registered clients, and https client_ids through their metadata documents (registration.ClientDirectory)
        return lookup.find(tenantId, clientId);
    }
}
