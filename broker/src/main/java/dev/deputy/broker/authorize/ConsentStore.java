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

    /**
     * A page of the tenant's consents that match {@code q}, newest first, filtered in the store: the {@code limit}
     * consents right after {@code after}, or (with {@code before}) right before it, or the first ones.
     */
    ConsentQuery.Page page(String tenantId, ConsentQuery q, ConsentQuery.Cursor after, ConsentQuery.Cursor before,
                           int limit);
}
