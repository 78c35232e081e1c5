package dev.deputy.broker.federation;

import java.util.List;
import java.util.Optional;

/** Users linked to upstream identities (port; implemented in storage). */
public interface UserStore {
    Optional<User> find(String tenantId, String id);

    Optional<User> findLinked(String tenantId, String connectorId, String upstreamIss, String upstreamSub);

    /** Every user linked to this upstream identity (one per connector that knows it). */
    List<User> findByUpstream(String tenantId, String upstreamIss, String upstreamSub);

    /** Inserts the user; false when the link already exists (a concurrent first login won). */
    boolean insert(User user);

    /** Updates the mapped attributes and last login of an existing user. */
    void updateLogin(User user);

    void setStatus(String tenantId, String id, User.Status status);

    List<User> list(String tenantId);

    /**
     * A lookup by any of: e-mail (case-insensitive), upstream {@code sub} (byte for byte), upstream issuer, connector;
     * a null member matches every user.
     */
    record Lookup(String email, String sub, String iss, String connector) {
        /** The form an e-mail address is compared in. */
        public static String lower(String email) {
            return email == null ? null : email.strip().toLowerCase(java.util.Locale.ROOT);
        }

        public boolean matches(User u) {
            return (email == null || (u.email() != null && lower(u.email()).equals(lower(email))))
                    && (sub == null || sub.equals(u.upstreamSub()))
                    && (iss == null || iss.equals(u.upstreamIss()))
                    && (connector == null || connector.equals(u.connectorId()));
        }
    }

    /** The users a lookup names, oldest first, at most {@code limit}. The durable store reads them from its indexes. */
    default List<User> lookup(String tenantId, Lookup q, int limit) {
        return list(tenantId).stream().filter(q::matches).limit(limit).toList();
    }

    /** The users of these ids that exist, by id (one query in the durable store). */
    default java.util.Map<String, User> findAll(String tenantId, java.util.Collection<String> ids) {
        java.util.Map<String, User> out = new java.util.LinkedHashMap<>();
        for (String id : new java.util.LinkedHashSet<>(ids)) {
            find(tenantId, id).ifPresent(u -> out.put(id, u));
        }
        return out;
    }

    /**
     * The users a CIBA {@code login_hint} names: the upstream {@code sub} byte for byte, or the e-mail address
     * (case-insensitive); several when the hint is ambiguous (the same sub or e-mail at two connectors).
     */
    default List<User> findByHint(String tenantId, String hint) {
        return list(tenantId).stream().filter(u -> u.upstreamSub().equals(hint)
                || (u.email() != null && u.email().equalsIgnoreCase(hint))).toList();
    }
}
