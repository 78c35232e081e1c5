package dev.deputy.broker.console.bench;

import dev.deputy.broker.agent.Agent;
import dev.deputy.broker.audit.AuditEntry;
import dev.deputy.broker.audit.AuditQuery;
import dev.deputy.broker.audit.AuditVerifier;
import dev.deputy.broker.storage.StorageBackend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A small run of the {@code scripts/bench console} seeder on MariaDB (1,000 entries, 200 agents): the agents are rows
 * the broker accepts (their MACs verify), the entries one chain that verifies, in time order, of the realistic types.
 */
class ConsoleSeedTest {
    @TempDir
    Path dir;

    @Test
    void seedsAgentsTheBrokerAcceptsAndAChainThatVerifies() throws Exception {
        try (StorageBackend b = StorageBackend.mariaDb(dir)) {
            long before = System.currentTimeMillis();
            ConsoleSeed.seed(b, "bench", 200, 1_000, 30);
            List<Agent> agents = b.agents().listAgents("bench");
            assertEquals(200, agents.size(), "every seeded row verifies");
            assertEquals(0, b.alarm().failedRows());
            assertTrue(agents.stream().anyMatch(a -> a.id().equals("payments.settlement.reconciler-00000")));
            assertTrue(agents.stream().anyMatch(a -> a.name().startsWith("Zoë's ticket triage")));
            assertTrue(agents.stream().anyMatch(a -> a.status() == Agent.Status.SUSPENDED));
            assertTrue(agents.stream().anyMatch(a -> "zoë.ångström@corp.example".equals(a.owner())));

            AuditVerifier.Report r = new AuditVerifier(b.audit()).verify("bench");
            assertTrue(r.ok(), r.toString());
            assertEquals(1_000, r.checked());
            List<AuditEntry> all = b.audit().query(new AuditQuery("bench", null, null, null, null, null, null, null, null,
                    null, null, 0, 1000));
            assertEquals(1_000, all.size());
            Set<String> types = new HashSet<>();
            long at = 0;
            for (AuditEntry e : all) {
                types.add(e.type());
                assertTrue(e.atMs() >= at, "time order");
                at = e.atMs();
                assertTrue(e.atMs() >= before - 31L * 86_400_000 && e.atMs() <= System.currentTimeMillis());
            }
            assertTrue(types.containsAll(Set.of("token.issued", "token.exchanged", "token.rejected", "policy.decision")), types.toString());
            assertTrue(all.stream().anyMatch(e -> ConsoleSeed.HOT_USER.equals(e.subject())));
            assertTrue(all.stream().anyMatch(e -> e.actor() != null && e.actor().contains(" > ")), "delegation chains");
            // the agent index rows come with the entries: an agent's entries are found as the console finds them
            String busy = all.stream().filter(e -> e.agentId() != null).findFirst().orElseThrow().agentId();
            assertTrue(!b.audit().query(new AuditQuery("bench", null, null, null, busy, null, null, null, null, null, null, 0, 10))
                    .isEmpty());
        }
    }

    @Test
    void theSameArgumentsGiveTheSameAgents() {
        List<Agent> a = new ConsoleSeed("bench", 50, 0, 30, 1_000_000_000_000L).agents();
        List<Agent> b = new ConsoleSeed("bench", 50, 0, 30, 1_000_000_000_000L).agents();
        assertEquals(a, b);
    }
}
