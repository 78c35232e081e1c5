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
}
