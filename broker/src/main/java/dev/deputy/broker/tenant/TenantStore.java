package dev.deputy.broker.tenant;

/** Durable tenant rows (port; implemented in storage). */
public interface TenantStore {
    /** Creates or updates the tenant row from the config tree. */
    void upsert(String id, String displayName, long now);
}
