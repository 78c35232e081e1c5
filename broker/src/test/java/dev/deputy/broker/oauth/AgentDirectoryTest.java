package dev.deputy.broker.oauth;

import dev.deputy.broker.agent.Agent;
import dev.deputy.broker.agent.AgentChanges;
import dev.deputy.broker.agent.AgentStore;
import dev.deputy.broker.agent.Resource;
import dev.deputy.broker.agent.Role;
import dev.deputy.broker.storage.ephemeral.InProcessEphemeralStore;
import org.junit.jupiter.api.Test;

import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The token path's cache of agents, roles and resources: expiry, one reload at a time, changes drop at once. */
class AgentDirectoryTest {
    private static final String TENANT = "demo";
    private static final String AGENT = "agt_1";

    /** A store that counts its loads and can hold the next load of the tenant's roles until released. */
    private static final class Store {
        final AtomicInteger roleLoads = new AtomicInteger();
        final AtomicInteger agentLoads = new AtomicInteger();
        final AtomicReference<String> scope = new AtomicReference<>("files:read");
        volatile CountDownLatch hold;
        final CountDownLatch entered = new CountDownLatch(1);

        AgentStore port() {
            return (AgentStore) Proxy.newProxyInstance(AgentStore.class.getClassLoader(), new Class<?>[]{AgentStore.class},
                    (proxy, method, args) -> switch (method.getName()) {
                        case "listRoles" -> {
                            roleLoads.incrementAndGet();
                            CountDownLatch h = hold;
                            if (h != null) {
                                entered.countDown();
                                assertTrue(h.await(10, TimeUnit.SECONDS));
                            }
                            yield List.of(new Role(TENANT, "reader", null, List.of(scope.get()), List.of(), null));
                        }
                        case "listResources" -> List.of(new Resource(TENANT, "files", "https://files.example.com/mcp", "files",
                                List.of("files:read"), true, null));
                        case "findAgent" -> {
                            agentLoads.incrementAndGet();
                            yield Optional.of(new Agent(TENANT, AGENT, AGENT, "owner@example.com", "prod", List.of("reader"),
                                    Map.of(), Agent.Status.ACTIVE, Agent.AuthMethod.PRIVATE_KEY_JWT, null, 0, 0, null, null));
                        }
                        case "credentials" -> List.of();
                        case "toString" -> "test store";
                        default -> throw new UnsupportedOperationException(method.getName());
                    });
        }
    }

    @Test
    void anExpiredTenantEntryIsReloadedByOneCallerWhileTheOthersKeepTheOldOne() throws Exception {
        Store store = new Store();
        AtomicLong now = new AtomicLong(1_000_000);
        AgentDirectory directory = new AgentDirectory(store.port(), new AgentChanges(new InProcessEphemeralStore()), now::get);
        List<Role> first = directory.roles(TENANT);
        assertSame(first, directory.roles(TENANT));
        assertEquals(1, store.roleLoads.get());

        now.addAndGet(AgentDirectory.TENANT_DATA_MAX_AGE_MS);
        store.scope.set("files:write");
        store.hold = new CountDownLatch(1);
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            Future<List<Role>> reloader = pool.submit(() -> directory.roles(TENANT));
            assertTrue(store.entered.await(10, TimeUnit.SECONDS), "the first caller after expiry reloads");
            // while that reload is held, every other caller answers from the expired entry without loading
            List<Future<List<Role>>> others = new ArrayList<>();
            for (int i = 0; i < 16; i++) {
                others.add(pool.submit(() -> directory.roles(TENANT)));
            }
            for (Future<List<Role>> f : others) {
                assertSame(first, f.get(10, TimeUnit.SECONDS));
            }
            assertEquals(2, store.roleLoads.get());
            store.hold.countDown();
            assertEquals(List.of("files:write"), reloader.get(10, TimeUnit.SECONDS).get(0).scopes());
        }
        store.hold = null;
        assertEquals(List.of("files:write"), directory.roles(TENANT).get(0).scopes());
        assertEquals(2, store.roleLoads.get());
    }

    @Test
    void aChangeDropsTheEntriesAtOnceAndAFailedReloadLeavesTheNextCallerToTryAgain() {
        Store store = new Store();
        AtomicLong now = new AtomicLong(1_000_000);
        InProcessEphemeralStore ephemeral = new InProcessEphemeralStore();
        AgentChanges changes = new AgentChanges(ephemeral);
        AgentDirectory directory = new AgentDirectory(store.port(), changes, now::get);
        directory.roles(TENANT);
        directory.find(TENANT, AGENT);
        assertEquals(1, store.agentLoads.get());
        assertEquals(1, store.roleLoads.get());

        changes.changed(TENANT, AGENT);
        directory.roles(TENANT);
        directory.find(TENANT, AGENT);
        assertEquals(2, store.agentLoads.get(), "a change drops the agent: loaded again at once");
        assertEquals(2, store.roleLoads.get(), "and the tenant's roles and resources");

        // expired, and the reload fails: the caller sees the failure, the next caller reloads
        now.addAndGet(AgentDirectory.MAX_AGE_MS);
        store.hold = new CountDownLatch(0) {
            @Override
            public boolean await(long timeout, TimeUnit unit) {
                throw new IllegalStateException("database away");
            }
        };
        try {
            directory.roles(TENANT);
        } catch (IllegalStateException expected) {
            assertEquals("database away", expected.getMessage());
        }
        store.hold = null;
        assertEquals(List.of("files:read"), directory.roles(TENANT).get(0).scopes());
        assertEquals(4, store.roleLoads.get());
        directory.find(TENANT, AGENT);
        assertEquals(3, store.agentLoads.get());
    }
}
