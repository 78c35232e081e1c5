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
