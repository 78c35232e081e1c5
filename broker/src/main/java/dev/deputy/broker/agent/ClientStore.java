package dev.deputy.broker.agent;

import java.util.List;
import java.util.Optional;

/** Registered OAuth clients (port; implemented in storage). */
public interface ClientStore {
    Optional<OAuthClient> find(String tenantId, String clientId);

    List<OAuthClient> list(String tenantId);

    /** Inserts or replaces (by tenant and client_id). */
    void save(OAuthClient client);

    void delete(String tenantId, String clientId);
}
