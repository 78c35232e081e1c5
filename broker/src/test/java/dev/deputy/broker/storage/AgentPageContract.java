package dev.deputy.broker.storage;

import dev.deputy.broker.agent.Agent;
import dev.deputy.broker.agent.AgentQuery;
import dev.deputy.broker.agent.AgentStore;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link AgentStore#findAgents}, the console's agent list in SQL: each filter, the search (id, and name or owner in
 * lower case, unicode included), the owners of an agent owner, pages in id order with the total, tenants apart, and a
 * planted row never listed. Subclasses: H2 and MariaDB.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class AgentPageContract {
    @TempDir
    static Path tmp;
    StorageBackend backend;
    AgentStore store;
    String t;
    String other;

    abstract StorageBackend open(Path dataDir);

    static Agent agent(String tenant, String id, String name, String owner, String env, List<String> roles, Agent.Status s) {
        return new Agent(tenant, id, name, owner, env, roles, Map.of("team", "payments"), s, Agent.AuthMethod.PRIVATE_KEY_JWT,
                "api", 1_000, 1_000, null, null);
    }

    @BeforeAll
    void seed() {
        backend = open(tmp);
        store = backend.agents();
        t = "acme-" + UUID.randomUUID().toString().substring(0, 8);
        other = "payments-eu-" + UUID.randomUUID().toString().substring(0, 8);
        List<Agent> agents = new ArrayList<>();
        for (int i = 0; i < 120; i++) {
            Agent.Status s = i % 10 == 3 ? Agent.Status.SUSPENDED : i % 40 == 7 ? Agent.Status.REVOKED : Agent.Status.ACTIVE;
            agents.add(agent(t, String.format("payments.settlement.reconciler-%03d", i), "Reconciler " + i,
                    i % 2 == 0 ? "jonathan.christopher.williams@corp.example" : "bob@corp.example",
                    i % 4 == 0 ? "production" : "staging", i % 5 == 0 ? List.of("payments.read", "payments.write") : List.of("payments.read"), s));
        }
        agents.add(agent(t, "zoe.helper", "ZOË Ångström’s helper", "Zoë.Ångström@corp.example", "sandbox", List.of("deploy-reader"),
                Agent.Status.ACTIVE));
        agents.add(agent(t, "writer.only", "Writer", "bob@corp.example", "sandbox", List.of("payments.writer"), Agent.Status.ACTIVE));
        backend.insertAgents(agents);
        store.saveAgent(agent(other, "payments.settlement.reconciler-000", "Elsewhere", "jonathan.christopher.williams@corp.example",
                "production", List.of("payments.read"), Agent.Status.ACTIVE));
    }

    @AfterAll
    void close() {
        if (backend != null) {
            backend.close();
        }
    }

    AgentQuery.Page find(AgentQuery q, int offset, int limit) {
        return store.findAgents(t, q, offset, limit);
    }

    static List<String> ids(AgentQuery.Page p) {
        return p.agents().stream().map(Agent::id).toList();
    }

    @Test
    void pagesInIdOrderWithTheTotalAndOnlyThisTenant() {
        AgentQuery all = new AgentQuery(null, null, null, null, null, null);
        AgentQuery.Page first = find(all, 0, 50);
        assertEquals(122, first.total());
        assertEquals(50, first.agents().size());
        assertEquals("payments.settlement.reconciler-000", first.agents().get(0).id());
        assertTrue(first.agents().stream().allMatch(a -> a.tenantId().equals(t)));
        AgentQuery.Page last = find(all, 100, 50);
        assertEquals(List.of("payments.settlement.reconciler-100"), ids(last).subList(0, 1));
        assertEquals(List.of("writer.only", "zoe.helper"), ids(last).subList(20, 22));
        assertEquals(122, last.total());
        List<String> everything = new ArrayList<>(ids(find(all, 0, 200)));
        assertEquals(everything.stream().sorted().toList(), everything, "id order");
        assertEquals(0, find(all, 500, 50).agents().size(), "past the end: nothing");
        assertEquals(122, find(all, 500, 50).total(), "and still the total, for the last page");
    }

    @Test
    void eachFilterIsExact() {
        assertEquals(12, find(new AgentQuery(Agent.Status.SUSPENDED, null, null, null, null, null), 0, 50).total());
        assertEquals(3, find(new AgentQuery(Agent.Status.REVOKED, null, null, null, null, null), 0, 50).total());
        assertEquals(30, find(new AgentQuery(null, "production", null, null, null, null), 0, 50).total());
        assertEquals(2, find(new AgentQuery(null, "sandbox", null, null, null, null), 0, 50).total());
        assertEquals(60, find(new AgentQuery(null, null, "jonathan.christopher.williams@corp.example", null, null, null), 0, 50).total());
        assertEquals(0, find(new AgentQuery(null, null, "JONATHAN.christopher.williams@corp.example", null, null, null), 0, 50).total(),
                "owner compares as it is stored");
        // roles: a whole element of the list, not a prefix (payments.write is not payments.writer)
        assertEquals(24, find(new AgentQuery(null, null, null, null, "payments.write", null), 0, 50).total());
        assertEquals(List.of("writer.only"), ids(find(new AgentQuery(null, null, null, null, "payments.writer", null), 0, 50)));
        assertEquals(0, find(new AgentQuery(null, null, null, null, "payments", null), 0, 50).total());
        assertEquals(0, find(new AgentQuery(null, null, null, null, "%", null), 0, 50).total(), "no wildcard");
        // together
        assertEquals(List.of("payments.settlement.reconciler-000", "payments.settlement.reconciler-020"),
                ids(find(new AgentQuery(Agent.Status.ACTIVE, "production", "jonathan.christopher.williams@corp.example", null,
                        "payments.write", "reconciler"), 0, 2)));
        assertEquals(6, find(new AgentQuery(Agent.Status.ACTIVE, "production", "jonathan.christopher.williams@corp.example", null,
                "payments.write", "reconciler"), 0, 2).total());
    }

    @Test
    void theSearchLooksAtIdsAndAtNamesAndOwnersInLowerCase() {
        assertEquals(List.of("zoe.helper"), ids(find(new AgentQuery(null, null, null, null, null, "zoë"), 0, 50)),
                "'ZOË Ångström’s helper' and 'Zoë.Ångström@corp.example' in lower case");
        assertEquals(List.of("zoe.helper"), ids(find(new AgentQuery(null, null, null, null, null, "ångström’s"), 0, 50)));
        assertEquals(120, find(new AgentQuery(null, null, null, null, null, "reconciler"), 0, 50).total());
        assertEquals(List.of("payments.settlement.reconciler-042"),
                ids(find(new AgentQuery(null, null, null, null, null, "reconciler-042"), 0, 50)));
        assertEquals(0, find(new AgentQuery(null, null, null, null, null, "_"), 0, 50).total(), "LIKE wildcards are text");
        assertEquals(0, find(new AgentQuery(null, null, null, null, null, "elsewhere"), 0, 50).total(), "another tenant's agent");
    }

    @Test
    void anAgentOwnerSeesOnlyAgentsOwnedByOneOfTheirIdentities() {
        AgentQuery mine = new AgentQuery(null, null, null, Set.of("Zoë.Ångström@corp.example", "00u-zoe"), null, null);
        assertEquals(List.of("zoe.helper"), ids(find(mine, 0, 50)));
        assertEquals(0, find(new AgentQuery(null, null, null, Set.of(), null, null), 0, 50).total(), "no identity: nothing");
    }

    @Test
    void aPlantedRowIsNeverListed() {
        String planted = "planted.agent-" + UUID.randomUUID().toString().substring(0, 6);
        RowIntegrityContract.jdbc(backend, "INSERT INTO agents (tenant_id, id, name, owner, environment, roles, metadata, status,"
                        + " auth_method, managed_by, created_at, updated_at) VALUES (?, ?, 'x', 'mallory@evil.example', 'production',"
                        + " '[\"payments.write\"]', '{}', 'ACTIVE', 'private_key_jwt', 'api', 1, 1)", t, planted);
        try {
            AgentQuery.Page p = find(new AgentQuery(null, null, "mallory@evil.example", null, null, null), 0, 50);
            assertEquals(List.of(), ids(p));
        } finally {
            RowIntegrityContract.jdbc(backend, "DELETE FROM agents WHERE tenant_id = ? AND id = ?", t, planted);
        }
    }
}
