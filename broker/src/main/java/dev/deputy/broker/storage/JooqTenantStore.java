package dev.deputy.broker.storage;

import dev.deputy.broker.tenant.TenantStore;
import jakarta.inject.Singleton;

import static dev.deputy.broker.storage.jooq.Tables.TENANTS;

@Singleton
class JooqTenantStore implements TenantStore {
    private final Database db;

    JooqTenantStore(Database db) {
        this.db = db;
    }

    @Override
    public void upsert(String id, String displayName, long now) {
        db.tx(dsl -> {
            int updated = dsl.update(TENANTS).set(TENANTS.DISPLAY_NAME, displayName).set(TENANTS.UPDATED_AT, now)
                    .where(TENANTS.ID.eq(id)).execute();
            if (updated == 0) {
                dsl.insertInto(TENANTS).set(TENANTS.ID, id).set(TENANTS.DISPLAY_NAME, displayName)
                        .set(TENANTS.CREATED_AT, now).set(TENANTS.UPDATED_AT, now)
                        .onDuplicateKeyIgnore().execute();
            }
            return null;
        });
    }
}
