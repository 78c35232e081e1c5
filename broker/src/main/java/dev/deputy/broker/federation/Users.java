package dev.deputy.broker.federation;

import dev.deputy.connectors.UpstreamIdentity;
import jakarta.inject.Singleton;

import java.security.SecureRandom;
import java.util.ArrayList;

/**
 * Just-in-time user linking by (connector, upstream {@code iss}, upstream {@code sub}), exactly as the
 * validated ID token said them. Mapped attributes (email, name, groups, roles) are refreshed at every login.
 */
@Singleton
public class Users {
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final char[] CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ".toCharArray();
    private final UserStore store;

    public Users(UserStore store) {
        this.store = store;
    }

    /** Links (creating on first login) and returns the user; the caller checks {@link User#active()}. */
    public User link(String tenantId, UpstreamIdentity who, long now) {
        var existing = store.findLinked(tenantId, who.connectorId(), who.issuer(), who.subject());
        var roles = new ArrayList<>(who.roles());
        roles.sort(null);
        if (existing.isPresent()) {
            User u = existing.get();
            User updated = new User(tenantId, u.id(), u.connectorId(), u.upstreamIss(), u.upstreamSub(), who.email(),
                    who.name(), who.groups(), roles, u.status(), u.createdAt(), now);
            store.updateLogin(updated);
            return updated;
        }
        User fresh = new User(tenantId, newId(now), who.connectorId(), who.issuer(), who.subject(), who.email(), who.name(),
                who.groups(), roles, User.Status.ACTIVE, now, now);
        if (store.insert(fresh)) {
            return fresh;
        }
        // a concurrent first login of the same person inserted the link first: use theirs
        return link(tenantId, who, now);
    }

    /** {@code usr_} + a ULID (48-bit time, 80 random bits, Crockford base32). */
    static String newId(long now) {
        StringBuilder sb = new StringBuilder("usr_");
        for (int i = 9; i >= 0; i--) {
            sb.append(CROCKFORD[(int) ((now >>> (i * 5)) & 31)]);
        }
        byte[] r = new byte[10];
        RANDOM.nextBytes(r);
        long hi = 0;
        long lo = 0;
        for (int i = 0; i < 5; i++) {
            hi = (hi << 8) | (r[i] & 0xff);
            lo = (lo << 8) | (r[i + 5] & 0xff);
        }
        for (int i = 7; i >= 0; i--) {
            sb.append(CROCKFORD[(int) ((hi >>> (i * 5)) & 31)]);
        }
        for (int i = 7; i >= 0; i--) {
            sb.append(CROCKFORD[(int) ((lo >>> (i * 5)) & 31)]);
        }
        return sb.toString();
    }
}
