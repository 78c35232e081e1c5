package dev.deputy.broker.config;

import java.util.Map;

/** The tenant files last applied through the admin API, by path relative to the tenant folder (port; row-sealed). */
public interface ConfigDocumentStore {
    /** path → content; empty when nothing was applied through the API. */
    Map<String, String> documents(String tenantId);

    /** Replaces the tenant's whole set in one transaction. */
    void replace(String tenantId, Map<String, String> documents, long now);
}
