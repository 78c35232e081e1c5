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

    /**
     * A page of the tenant's clients that match {@code q} ({@link ClientQuery}: the rows and the metadata-document
     * clients seen), in client-id order, filtered in the store: the {@code limit} clients right after {@code after},
     * or (with {@code before}) right before it, or the first ones.
     */
    ClientQuery.Page page(String tenantId, ClientQuery q, String after, String before, int limit);

    /** One client as the list knows it: its row, or a URL client id the tenant has seen; empty when neither. */
    Optional<ClientQuery.Listed> listed(String tenantId, String clientId);
}
