package dev.deputy.broker.storage;

import dev.deputy.broker.agent.Agent;
import dev.deputy.broker.agent.AgentStore;
import dev.deputy.broker.audit.AuditEntry;
import dev.deputy.broker.audit.AuditEvent;
import dev.deputy.broker.audit.AuditSeal;
import dev.deputy.broker.audit.AuditStore;
import dev.deputy.broker.audit.EventTypes;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The console overview's aggregates on a real backend: tokens per hour and type from one grouped query over
 * planted entries at known times (other types, other tenants and entries outside the window not counted), the
 * newest entries of a type, and agents by status with the dormant ones — the answers equal what the default
 * (walking) implementations of the ports compute from the same rows.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class ConsoleAggregatesContract {
    static final long HOUR = AuditStore.HOUR_MS;
    @TempDir
    static Path tmp;
    StorageBackend backend;

    abstract StorageBackend open(Path dataDir);

    @BeforeAll
    void openBackend() {
        backend = open(tmp);
    }

    @AfterAll
    void closeBackend() {
        if (backend != null) {
            backend.close();
        }
    }

    /** Appends sealed entries (type, at_ms) to the tenant's chain, continuing from its head. */
    static void plant(AuditStore store, String tenant, List<Object[]> entries) {
        AuditEntry head = store.head(tenant).orElse(null);
        long seq = head == null ? 0 : head.seq();
        String prev = head == null ? AuditEntry.GENESIS : head.hash();
        List<AuditEntry> out = new ArrayList<>();
        for (Object[] e : entries) {
            String type = (String) e[0];
            AuditEvent.Outcome outcome = type.equals(EventTypes.TOKEN_REJECTED) ? AuditEvent.Outcome.FAILURE : AuditEvent.Outcome.SUCCESS;
            AuditEvent.Builder b = AuditEvent.of(tenant, type, outcome).client("payments.settlement.reconciler");
            if (e.length > 2) {
                b.detail("connector", e[2]);
            }
            AuditEntry sealed = AuditSeal.seal(b.build(), ++seq, (Long) e[1], prev);
            out.add(sealed);
            prev = sealed.hash();
        }
        store.insert(out);
    }

    @Test
    void tokensPerHourAreOneGroupedCountThatMatchesTheWalk() {
        AuditStore store = backend.audit();
        String t = "ovw-" + UUID.randomUUID().toString().substring(0, 8);
        long h0 = 1_796_000_000_000L - Math.floorMod(1_796_000_000_000L, HOUR); // an hour boundary
        List<Object[]> e = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            e.add(new Object[]{EventTypes.TOKEN_ISSUED, h0 + 10 + i});
        }
        e.add(new Object[]{EventTypes.TOKEN_EXCHANGED, h0 + HOUR - 1}); // the last millisecond of hour 0
        e.add(new Object[]{EventTypes.TOKEN_REJECTED, h0 + HOUR}); // the first of hour 1
        e.add(new Object[]{EventTypes.TOKEN_REJECTED, h0 + 2 * HOUR + 5});
        e.add(new Object[]{EventTypes.AGENT_CREATED, h0 + 20}); // another type
        e.add(new Object[]{EventTypes.TOKEN_ISSUED, h0 - 1}); // before the window
        e.add(new Object[]{EventTypes.TOKEN_ISSUED, h0 + 3 * HOUR}); // at its end (exclusive)
        plant(store, t, e);
        plant(store, t + "-other", List.<Object[]>of(new Object[]{EventTypes.TOKEN_ISSUED, h0 + 30}));

        List<String> types = List.of(EventTypes.TOKEN_ISSUED, EventTypes.TOKEN_REFRESHED, EventTypes.TOKEN_EXCHANGED,
                EventTypes.TOKEN_REJECTED);
        List<AuditStore.HourCount> got = store.countByHour(t, types, h0, h0 + 3 * HOUR);
        List<AuditStore.HourCount> want = List.of(new AuditStore.HourCount(h0, EventTypes.TOKEN_EXCHANGED, 1),
                new AuditStore.HourCount(h0, EventTypes.TOKEN_ISSUED, 3),
                new AuditStore.HourCount(h0 + HOUR, EventTypes.TOKEN_REJECTED, 1),
                new AuditStore.HourCount(h0 + 2 * HOUR, EventTypes.TOKEN_REJECTED, 1));
        assertEquals(want, sorted(got));
        // the port's default (a walk of the query API) gives the same answer
        assertEquals(want, sorted(walkingStore(store).countByHour(t, types, h0, h0 + 3 * HOUR)));
        assertEquals(List.of(), store.countByHour(t, List.of(EventTypes.TOKEN_REFRESHED), h0, h0 + 3 * HOUR));
        assertEquals(List.of(), store.countByHour(t, types, h0 + 3 * HOUR, h0 + 3 * HOUR));
    }

    @Test
    void theOverviewsTokenCountsAreKeptAndExtendedByTheEntriesAppendedSince() {
        AuditStore store = backend.audit();
        String t = "ovw-ü." + UUID.randomUUID().toString().substring(0, 8);
        long h0 = 1_796_000_000_000L - Math.floorMod(1_796_000_000_000L, HOUR);
        List<String> types = List.of(EventTypes.TOKEN_ISSUED, EventTypes.TOKEN_REFRESHED, EventTypes.TOKEN_EXCHANGED,
                EventTypes.TOKEN_REJECTED);
        List<Object[]> e = new ArrayList<>();
        e.add(new Object[]{EventTypes.TOKEN_ISSUED, h0 - 1}); // before the window
        e.add(new Object[]{EventTypes.TOKEN_ISSUED, h0 + 5});
        e.add(new Object[]{EventTypes.TOKEN_EXCHANGED, h0 + 6});
        e.add(new Object[]{EventTypes.TOKEN_REJECTED, h0 + HOUR + 1});
        e.add(new Object[]{EventTypes.POLICY_DECISION, h0 + HOUR + 2}); // another type
        plant(store, t, e);
        // the seq window: only the entries after seq 2 and up to seq 4
        assertEquals(List.of(new AuditStore.HourCount(h0, EventTypes.TOKEN_EXCHANGED, 1),
                        new AuditStore.HourCount(h0 + HOUR, EventTypes.TOKEN_REJECTED, 1)),
                sorted(store.countByHour(t, types, h0, Long.MAX_VALUE, 2, 4)));
        assertEquals(sorted(store.countByHour(t, types, h0, Long.MAX_VALUE, 2, 4)),
                sorted(walkingStore(store).countByHour(t, types, h0, Long.MAX_VALUE, 2, 4)), "the port's walk agrees");
        assertEquals(List.of(), store.countByHour(t, types, h0, Long.MAX_VALUE, 4, 4));

        dev.deputy.broker.admin.TokenHourCounts counts = new dev.deputy.broker.admin.TokenHourCounts(
                spying(store), List.of(EventTypes.TOKEN_ISSUED, EventTypes.TOKEN_REFRESHED, EventTypes.TOKEN_EXCHANGED),
                EventTypes.TOKEN_REJECTED);
        long head = store.head(t).orElseThrow().seq();
        Map<Long, long[]> first = counts.counts(t, h0, head);
        assertEquals(List.of(2L, 0L), List.of(first.get(h0)[0], first.get(h0)[1]));
        assertEquals(List.of(0L, 1L), List.of(first.get(h0 + HOUR)[0], first.get(h0 + HOUR)[1]));
        assertEquals(List.of(List.of(0L, head)), windows, "the first view counts the whole window once");
        // appended since: one in an earlier hour (a late clock), one in a new hour, one before the window
        plant(store, t, List.<Object[]>of(new Object[]{EventTypes.TOKEN_ISSUED, h0 + 7},
                new Object[]{EventTypes.TOKEN_REFRESHED, h0 + 2 * HOUR}, new Object[]{EventTypes.TOKEN_ISSUED, h0 - 5}));
        long head2 = store.head(t).orElseThrow().seq();
        Map<Long, long[]> second = counts.counts(t, h0, head2);
        assertEquals(List.of(List.of(0L, head), List.of(head, head2)), windows, "the next view reads what was appended");
        assertEquals(3L, second.get(h0)[0]);
        assertEquals(1L, second.get(h0 + 2 * HOUR)[0]);
        assertEquals(1L, second.get(h0 + HOUR)[1]);
        // the same as a fresh count from the database
        Map<Long, long[]> fresh = new java.util.HashMap<>();
        for (AuditStore.HourCount c : store.countByHour(t, types, h0, Long.MAX_VALUE)) {
            fresh.computeIfAbsent(c.hourStartMs(), h -> new long[2])[c.type().equals(EventTypes.TOKEN_REJECTED) ? 1 : 0] += c.count();
        }
        assertEquals(asLists(fresh), asLists(second));
        // nothing appended: no count at all; the window moving on drops the hour that left it
        Map<Long, long[]> third = counts.counts(t, h0 + HOUR, head2);
        assertEquals(2, windows.size(), "nothing read when the head has not moved");
        assertEquals(java.util.Set.of(h0 + HOUR, h0 + 2 * HOUR), third.keySet());
        // a chain shorter than the count (another trail under the same tenant id): counted afresh
        counts.counts(t, h0 + HOUR, head2 - 1);
        assertEquals(List.of(0L, head2 - 1), windows.get(windows.size() - 1));
    }

    /** The (afterSeq, upToSeq) of every seq-windowed count the spied store answered. */
    final List<List<Long>> windows = new ArrayList<>();

    AuditStore spying(AuditStore s) {
        windows.clear();
        return (AuditStore) java.lang.reflect.Proxy.newProxyInstance(AuditStore.class.getClassLoader(),
                new Class<?>[]{AuditStore.class}, (proxy, m, args) -> {
                    if (m.getName().equals("countByHour") && args.length == 6) {
                        windows.add(List.of((Long) args[4], (Long) args[5]));
                    }
                    return m.invoke(s, args);
                });
    }

    static Map<Long, List<Long>> asLists(Map<Long, long[]> m) {
        Map<Long, List<Long>> out = new java.util.TreeMap<>();
        m.forEach((h, n) -> out.put(h, List.of(n[0], n[1])));
        return out;
    }

    @Test
    void newestOfTypeReadsBackwards() {
        AuditStore store = backend.audit();
        String t = "ovw-" + UUID.randomUUID().toString().substring(0, 8);
        long now = System.currentTimeMillis();
        List<Object[]> e = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            e.add(new Object[]{EventTypes.LOGIN_SUCCEEDED, now + i, i % 2 == 0 ? "corp-okta" : "zoë-entra"});
            e.add(new Object[]{EventTypes.TOKEN_ISSUED, now + i});
        }
        plant(store, t, e);
        List<AuditEntry> newest = store.newestOfType(t, EventTypes.LOGIN_SUCCEEDED, 3);
        assertEquals(List.of(now + 4, now + 3, now + 2), newest.stream().map(AuditEntry::atMs).toList());
        assertTrue(newest.stream().allMatch(x -> x.type().equals(EventTypes.LOGIN_SUCCEEDED)));
        assertEquals(newest, walkingStore(store).newestOfType(t, EventTypes.LOGIN_SUCCEEDED, 3));
        assertEquals(List.of(), store.newestOfType(t, EventTypes.CONNECTOR_TESTED, 3));
    }

    @Test
    void agentsByStatusAndTheDormantOnes() {
        AgentStore agents = backend.agents();
        String t = "ovw-" + UUID.randomUUID().toString().substring(0, 8);
        long now = System.currentTimeMillis();
        long day = 86_400_000L;
        long cutoff = now - 90 * day;
        // active: created long ago and never seen (dormant), seen lately (not), resumed lately (not), new (not)
        agents.saveAgent(agent(t, "payments.settlement.reconciler", Agent.Status.ACTIVE, now - 200 * day, null, null));
        agents.saveAgent(agent(t, "jonathan.christopher.williams.helper", Agent.Status.ACTIVE, now - 120 * day, now - 100 * day, null));
        agents.saveAgent(agent(t, "seen.lately", Agent.Status.ACTIVE, now - 200 * day, null, now - day));
        agents.saveAgent(agent(t, "resumed.lately", Agent.Status.ACTIVE, now - 200 * day, now - day, null));
        agents.saveAgent(agent(t, "new.one", Agent.Status.ACTIVE, now, null, null));
        agents.saveAgent(agent(t, "old.suspended", Agent.Status.SUSPENDED, now - 200 * day, now - 150 * day, null));
        agents.saveAgent(agent(t, "old.revoked-1", Agent.Status.REVOKED, now - 200 * day, now - 150 * day, null));
        agents.saveAgent(agent(t, "old.revoked-2", Agent.Status.REVOKED, now - 200 * day, now - 150 * day, null));
        agents.saveAgent(agent(t + "-other", "elsewhere", Agent.Status.ACTIVE, now - 200 * day, null, null));

        AgentStore.StatusCounts c = agents.countByStatus(t, cutoff);
        assertEquals(new AgentStore.StatusCounts(5, 1, 2, 2), c);
        assertEquals(List.of("payments.settlement.reconciler", "jonathan.christopher.williams.helper"),
                agents.dormant(t, cutoff, 20).stream().map(Agent::id).toList(), "longest idle first");
        assertEquals(List.of("payments.settlement.reconciler"), agents.dormant(t, cutoff, 1).stream().map(Agent::id).toList());
        AgentStore walking = walkingAgents(agents);
        assertEquals(c, walking.countByStatus(t, cutoff));
        assertEquals(agents.dormant(t, cutoff, 20), walking.dormant(t, cutoff, 20));
    }

    static Agent agent(String tenant, String id, Agent.Status status, long created, Long statusChanged, Long lastSeen) {
        return new Agent(tenant, id, "Zoë Ångström's " + id, "zoë@corp.example", "prod", List.of("deploy-reader"),
                Map.of(), status, Agent.AuthMethod.PRIVATE_KEY_JWT, "api", created, created, statusChanged, lastSeen);
    }

    static List<AuditStore.HourCount> sorted(List<AuditStore.HourCount> l) {
        return l.stream().sorted(java.util.Comparator.comparingLong(AuditStore.HourCount::hourStartMs)
                .thenComparing(AuditStore.HourCount::type)).toList();
    }

    /** The store seen through the port's defaults only (what a test store without the SQL would answer). */
    static AuditStore walkingStore(AuditStore s) {
        return (AuditStore) java.lang.reflect.Proxy.newProxyInstance(AuditStore.class.getClassLoader(),
                new Class<?>[]{AuditStore.class}, (proxy, m, args) -> {
                    if (m.isDefault()) {
                        return java.lang.reflect.InvocationHandler.invokeDefault(proxy, m, args);
                    }
                    return m.invoke(s, args);
                });
    }

    static AgentStore walkingAgents(AgentStore s) {
        return (AgentStore) java.lang.reflect.Proxy.newProxyInstance(AgentStore.class.getClassLoader(),
                new Class<?>[]{AgentStore.class}, (proxy, m, args) -> {
                    if (m.isDefault()) {
                        return java.lang.reflect.InvocationHandler.invokeDefault(proxy, m, args);
                    }
                    return m.invoke(s, args);
                });
    }
}
