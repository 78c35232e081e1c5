package dev.deputy.broker.federation;

import java.util.List;
import java.util.Optional;

/** Connectors managed through the admin API (port; implemented in storage). */
public interface ConnectorStore {
    List<StoredConnector> list(String tenantId);

    Optional<StoredConnector> find(String tenantId, String id);

    /** Inserts; false when the id exists. */
    boolean insert(StoredConnector connector);

    void setEnabled(String tenantId, String id, boolean enabled, long now);

    boolean delete(String tenantId, String id);
}
