package dev.deputy.broker.federation;

import dev.deputy.broker.ephemeral.EphemeralStore;
import io.micronaut.context.annotation.Primary;
import jakarta.annotation.PostConstruct;
import jakarta.inject.Named;
import jakarta.inject.Singleton;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The {@link UserStore} everyone gets: the durable store, with a read-through cache of
 * {@link #findByUpstream} (what every token exchange asks) in front of it.
 *
 * <p>Every write through this store drops the entry of the upstream identity it touched, on this node at once and
 * on every other node over the ephemeral store's pub/sub (as {@code AgentChanges} does for agents), so a link
 * suspended or changed stops or changes delegation at once. Entries also expire after {@link #MAX_AGE_MS}, the
 * safety net for a lost pub/sub message or a change made beside the broker (SQL). A load that raced with a change
 * is not cached. Bounded by {@link #MAX_ENTRIES}; empty answers (no link) are cached too, and dropped by the
 * insert that creates the link.
 */
@Singleton
@Primary
public class CachingUserStore implements UserStore {
    private static final Logger LOG = LoggerFactory.getLogger(CachingUserStore.class);
    static final String CHANNEL = "user-changes";
    static final long MAX_AGE_MS = 10_000;
    static final int MAX_ENTRIES = 50_000;

    record Key(String tenantId, String iss, String sub) {
    }

    private record Links(List<User> users, long loadedAt) {
    }

    /** The qualifier of the durable implementation this store fronts. */
    public static final String DURABLE = "durable";

    private final UserStore store;
    private final EphemeralStore ephemeral;
    private final Map<Key, Links> byUpstream = new ConcurrentHashMap<>();
    /** Bumped by every change: a load that raced with a change is not cached. */
    private final AtomicLong epoch = new AtomicLong();

    public CachingUserStore(@Named(DURABLE) UserStore store, EphemeralStore ephemeral) {
        this.store = store;
        this.ephemeral = ephemeral;
    }

    @PostConstruct
    void subscribe() {
        ephemeral.subscribe(CHANNEL, message -> {
            Key k = decode(message);
            if (k != null) {
                drop(k);
            }
        });
    }

    @Override
    public List<User> findByUpstream(String tenantId, String upstreamIss, String upstreamSub) {
        Key key = new Key(tenantId, upstreamIss, upstreamSub);
        long now = System.currentTimeMillis();
        Links cached = byUpstream.get(key);
        if (cached != null && now - cached.loadedAt() < MAX_AGE_MS) {
            return cached.users();
        }
        long before = epoch.get();
        List<User> loaded = List.copyOf(store.findByUpstream(tenantId, upstreamIss, upstreamSub));
        if (epoch.get() == before) {
            if (byUpstream.size() >= MAX_ENTRIES) {
                byUpstream.clear();
            }
            byUpstream.put(key, new Links(loaded, now));
        }
        return loaded;
    }

    @Override
    public Optional<User> find(String tenantId, String id) {
        return store.find(tenantId, id);
    }

    @Override
    public Optional<User> findLinked(String tenantId, String connectorId, String upstreamIss, String upstreamSub) {
        return store.findLinked(tenantId, connectorId, upstreamIss, upstreamSub);
    }

    @Override
    public java.util.Map<String, User> findAll(String tenantId, java.util.Collection<String> ids) {
        return store.findAll(tenantId, ids);
    }

    @Override
    public List<User> list(String tenantId) {
        return store.list(tenantId);
    }

    @Override
    public List<User> lookup(String tenantId, Lookup q, int limit) {
        return store.lookup(tenantId, q, limit);
    }

    @Override
    public List<User> findByHint(String tenantId, String hint) {
        return store.findByHint(tenantId, hint);
    }

    @Override
    public boolean insert(User user) {
        try {
            return store.insert(user);
        } finally {
            changed(new Key(user.tenantId(), user.upstreamIss(), user.upstreamSub()));
        }
    }

    @Override
    public void updateLogin(User user) {
        try {
            store.updateLogin(user);
        } finally {
            changed(new Key(user.tenantId(), user.upstreamIss(), user.upstreamSub()));
        }
    }

    @Override
    public void setStatus(String tenantId, String id, User.Status status) {
        try {
            store.setStatus(tenantId, id, status);
        } finally {
            Optional<User> u;
            try {
                u = store.find(tenantId, id);
            } catch (RuntimeException e) {
                u = Optional.empty();
            }
            // the user's upstream identity, or (not readable) everything this tenant holds
            changed(u.map(x -> new Key(tenantId, x.upstreamIss(), x.upstreamSub())).orElse(new Key(tenantId, null, null)));
        }
    }

    /** Drops the entry here at once, then tells every node (this one included) over pub/sub. */
    private void changed(Key k) {
        drop(k);
        try {
            ephemeral.publish(CHANNEL, encode(k));
        } catch (RuntimeException e) {
            LOG.warn("could not publish a user change in tenant {}: {}", k.tenantId(), e.toString());
            throw e;
        }
    }

    /** One upstream identity's entry, or every entry of the tenant when the key names no identity. */
    private void drop(Key k) {
        epoch.incrementAndGet();
        if (k.iss() == null && k.sub() == null) {
            byUpstream.keySet().removeIf(x -> x.tenantId().equals(k.tenantId()));
        } else {
            byUpstream.remove(k);
        }
    }

    /** {@code tenant.iss.sub} (or {@code tenant} alone for all of it), each part base64url: upstream ids may hold any character. */
    static String encode(Key k) {
        Base64.Encoder b = Base64.getUrlEncoder().withoutPadding();
        String tenant = b.encodeToString(k.tenantId().getBytes(StandardCharsets.UTF_8));
        if (k.iss() == null && k.sub() == null) {
            return tenant;
        }
        return tenant + "." + b.encodeToString(String.valueOf(k.iss()).getBytes(StandardCharsets.UTF_8))
                + "." + b.encodeToString(String.valueOf(k.sub()).getBytes(StandardCharsets.UTF_8));
    }

    static Key decode(String message) {
        String[] parts = message.split("\\.", -1);
        try {
            Base64.Decoder d = Base64.getUrlDecoder();
            if (parts.length == 1) {
                return new Key(new String(d.decode(parts[0]), StandardCharsets.UTF_8), null, null);
            }
            if (parts.length != 3) {
                return null;
            }
            return new Key(new String(d.decode(parts[0]), StandardCharsets.UTF_8),
                    new String(d.decode(parts[1]), StandardCharsets.UTF_8),
                    new String(d.decode(parts[2]), StandardCharsets.UTF_8));
        } catch (IllegalArgumentException e) {
            return null;
        }
    }
}
