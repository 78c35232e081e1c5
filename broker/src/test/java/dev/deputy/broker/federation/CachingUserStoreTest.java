package dev.deputy.broker.federation;

import dev.deputy.broker.storage.ephemeral.InProcessEphemeralStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The user-link cache in front of the durable store: repeated lookups are answered from memory, and every write
 * — through this node's store or announced by another node's — makes the next lookup read the durable store.
 */
class CachingUserStoreTest {
    static final String ISS = "https://idp.example.com/";
    /** Characters that a naive message encoding would split on. */
    static final String SUB = "00u/ü.sub|42 x";

    final InProcessEphemeralStore ephemeral = new InProcessEphemeralStore();
    final Durable durable = new Durable();

    @AfterEach
    void close() {
        ephemeral.close();
    }

    CachingUserStore node() {
        CachingUserStore s = new CachingUserStore(durable, ephemeral);
        s.subscribe();
        return s;
    }

    static User user(String id, String sub, User.Status status) {
        return new User("demo", id, "okta", ISS, sub, null, null, List.of("g"), List.of("r"), status, 1, 1);
    }

    @Test
    void repeatedLookupsAreAnsweredFromMemoryUntilALinkIsWritten() {
        CachingUserStore store = node();
        assertEquals(List.of(), store.findByUpstream("demo", ISS, SUB));
        assertEquals(List.of(), store.findByUpstream("demo", ISS, SUB));
        assertEquals(1, durable.reads.get(), "the empty answer is cached too");

        store.insert(user("usr_1", SUB, User.Status.ACTIVE)); // the link appears: the empty answer goes
        assertEquals(1, store.findByUpstream("demo", ISS, SUB).size());
        assertEquals(1, store.findByUpstream("demo", ISS, SUB).size());
        assertEquals(2, durable.reads.get());

        store.setStatus("demo", "usr_1", User.Status.SUSPENDED);
        assertFalse(store.findByUpstream("demo", ISS, SUB).get(0).active(), "a suspension is seen at once");
        assertEquals(3, durable.reads.get());

        store.updateLogin(user("usr_1", SUB, User.Status.SUSPENDED));
        store.findByUpstream("demo", ISS, SUB);
        assertEquals(4, durable.reads.get());
    }

    @Test
    void aChangeOnAnotherNodeDropsTheEntryHere() throws Exception {
        CachingUserStore here = node();
        CachingUserStore there = node(); // the same durable store and pub/sub: another broker node
        durable.users.put("usr_2", user("usr_2", SUB, User.Status.ACTIVE));
        assertTrue(here.findByUpstream("demo", ISS, SUB).get(0).active());

        there.setStatus("demo", "usr_2", User.Status.SUSPENDED);
        boolean seen = false;
        for (int i = 0; i < 100 && !seen; i++) { // pub/sub delivery is asynchronous
            seen = !here.findByUpstream("demo", ISS, SUB).get(0).active();
            if (!seen) {
                Thread.sleep(10);
            }
        }
        assertTrue(seen, "the suspension made on the other node reached this one");
    }

    @Test
    void otherIdentitiesStayCached() {
        CachingUserStore store = node();
        durable.users.put("usr_3", user("usr_3", "other", User.Status.ACTIVE));
        store.findByUpstream("demo", ISS, "other");
        store.insert(user("usr_4", SUB, User.Status.ACTIVE));
        store.findByUpstream("demo", ISS, "other");
        assertEquals(1, durable.reads.get(), "a write drops the identity it touched, not the others");
    }

    @Test
    void messagesRoundTripAnyIdentifier() {
        String m = CachingUserStore.encode(new CachingUserStore.Key("demo", ISS, SUB));
        assertEquals(new CachingUserStore.Key("demo", ISS, SUB), CachingUserStore.decode(m));
        assertEquals(new CachingUserStore.Key("demo", null, null),
                CachingUserStore.decode(CachingUserStore.encode(new CachingUserStore.Key("demo", null, null))));
        assertNull(CachingUserStore.decode("a.b"));
        assertNull(CachingUserStore.decode("not base64!.x.y"));
    }

    /** The durable store's twin: a map, counting lookups by upstream identity. */
    static final class Durable implements UserStore {
        final Map<String, User> users = new ConcurrentHashMap<>();
        final AtomicInteger reads = new AtomicInteger();

        @Override
        public Optional<User> find(String tenantId, String id) {
            return Optional.ofNullable(users.get(id));
        }

        @Override
        public Optional<User> findLinked(String tenantId, String connectorId, String iss, String sub) {
            return users.values().stream().filter(u -> u.upstreamIss().equals(iss) && u.upstreamSub().equals(sub))
                    .findFirst();
        }

        @Override
        public List<User> findByUpstream(String tenantId, String iss, String sub) {
            reads.incrementAndGet();
            return new ArrayList<>(users.values().stream()
                    .filter(u -> u.upstreamIss().equals(iss) && u.upstreamSub().equals(sub)).toList());
        }

        @Override
        public boolean insert(User user) {
            return users.putIfAbsent(user.id(), user) == null;
        }

        @Override
        public void updateLogin(User user) {
            users.put(user.id(), user);
        }

        @Override
        public void setStatus(String tenantId, String id, User.Status status) {
            User u = users.get(id);
            users.put(id, new User(u.tenantId(), u.id(), u.connectorId(), u.upstreamIss(), u.upstreamSub(), u.email(),
                    u.name(), u.groups(), u.roles(), status, u.createdAt(), u.lastLoginAt()));
        }

        @Override
        public List<User> list(String tenantId) {
            return List.copyOf(users.values());
        }
    }
}
