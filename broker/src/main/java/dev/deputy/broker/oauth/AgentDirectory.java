package dev.deputy.broker.oauth;

import dev.deputy.broker.agent.Agent;
import dev.deputy.broker.agent.AgentChanges;
import dev.deputy.broker.agent.AgentCredential;
import dev.deputy.broker.agent.AgentStore;
import dev.deputy.broker.agent.Resource;
import dev.deputy.broker.agent.Role;
import jakarta.inject.Singleton;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * Read-through cache of agents (with their credentials), roles and resources for the token hot path. Every
 * {@link AgentChanges} event (on any node) drops the agent and its tenant's roles and resources at once;
 * entries also expire after {@link #MAX_AGE_MS} as a safety net for writers that forget to announce a change.
 * Unknown agents are not cached (no negative entries to fill memory with guessed ids).
 *
 * <p>An expired entry is reloaded by one caller at a time: the others keep answering from it until the reload is in
 * (a few milliseconds). Before, every request that arrived during the reload loaded the same rows again — under load
 * a few dozen loads of the tenant's roles and resources every {@link #TENANT_DATA_MAX_AGE_MS}, cold code each time
 * (docs/benchmarks.md, session 11). An entry dropped by a change is gone, not expired: the next callers load it.
 */
@Singleton
public class AgentDirectory {
    static final long MAX_AGE_MS = 60_000;
    static final long TENANT_DATA_MAX_AGE_MS = 10_000;
    private static final int MAX_ENTRIES = 100_000;

    /** An agent and all its credentials as loaded together. */
    public record Entry(Agent agent, List<AgentCredential> credentials, long loadedAt) {
        public Entry {
            credentials = List.copyOf(credentials);
        }
    }

    private record TenantData(List<Role> roles, List<Resource> resources, long loadedAt) {
    }

    private final AgentStore store;
    private final Map<String, Entry> agents = new ConcurrentHashMap<>();
    private final Map<String, TenantData> tenantData = new ConcurrentHashMap<>();
    /** Bumped by every change: a load that raced with a change is not cached. */
    private final AtomicLong epoch = new AtomicLong();
    /** The expired entries being reloaded, by key: one reload of each at a time. */
    private final Set<String> reloadingAgents = ConcurrentHashMap.newKeySet();
    private final Set<String> reloadingTenants = ConcurrentHashMap.newKeySet();
    private final LongSupplier clock;

    @jakarta.inject.Inject
    public AgentDirectory(AgentStore store, AgentChanges changes) {
        this(store, changes, System::currentTimeMillis);
    }

    AgentDirectory(AgentStore store, AgentChanges changes, LongSupplier clock) {
        this.store = store;
        this.clock = clock;
        changes.listen(this::drop);
    }

    public Optional<Entry> find(String tenantId, String agentId) {
        if (agentId == null || !Agent.ID.matcher(agentId).matches()) {
            return Optional.empty();
        }
        String key = tenantId + "/" + agentId;
        long now = clock.getAsLong();
        Entry e = agents.get(key);
        if (e != null && now - e.loadedAt() < MAX_AGE_MS) {
            return Optional.of(e);
        }
        if (e != null && !reloadingAgents.add(key)) {
            return Optional.of(e); // another caller is reloading it
        }
        try {
            long before = epoch.get();
            Optional<Agent> agent = store.findAgent(tenantId, agentId);
            if (agent.isEmpty()) {
                agents.remove(key);
                return Optional.empty();
            }
            Entry loaded = new Entry(agent.get(), store.credentials(tenantId, agentId), now);
            if (epoch.get() == before) {
                if (agents.size() >= MAX_ENTRIES) {
                    agents.clear();
                }
                agents.put(key, loaded);
            }
            return Optional.of(loaded);
        } finally {
            if (e != null) {
                reloadingAgents.remove(key);
            }
        }
    }

    public Optional<Agent> agent(String tenantId, String agentId) {
        return find(tenantId, agentId).map(Entry::agent);
    }

    public List<Role> roles(String tenantId) {
        return tenant(tenantId).roles();
    }

    public List<Resource> resources(String tenantId) {
        return tenant(tenantId).resources();
    }

    private TenantData tenant(String tenantId) {
        long now = clock.getAsLong();
        TenantData d = tenantData.get(tenantId);
        if (d != null && now - d.loadedAt() < TENANT_DATA_MAX_AGE_MS) {
            return d;
        }
        if (d != null && !reloadingTenants.add(tenantId)) {
            return d; // another caller is reloading it
        }
        try {
            long before = epoch.get();
            TenantData loaded = new TenantData(List.copyOf(store.listRoles(tenantId)),
                    List.copyOf(store.listResources(tenantId)), now);
            if (epoch.get() == before) {
                tenantData.put(tenantId, loaded);
            }
            return loaded;
        } finally {
            if (d != null) {
                reloadingTenants.remove(tenantId);
            }
        }
    }

    private void drop(String tenantId, String agentId) {
        epoch.incrementAndGet();
        agents.remove(tenantId + "/" + agentId);
        tenantData.remove(tenantId);
    }
}
