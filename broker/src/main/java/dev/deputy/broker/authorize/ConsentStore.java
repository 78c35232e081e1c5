package dev.deputy.broker.authorize;

import java.util.List;
import java.util.Optional;

/** Stored consent decisions (port; implemented in storage). */
public interface ConsentStore {
    Optional<Consent> find(String tenantId, String userId, String clientId, String resourceId);

    /** Inserts or replaces. */
    void save(Consent consent);

    boolean delete(String tenantId, String userId, String clientId, String resourceId);

    List<Consent> list(String tenantId, String userId);
}
