package dev.deputy.broker.storage;

import dev.deputy.broker.registration.ClientActivityStore;
import jakarta.inject.Singleton;

import java.util.LinkedHashMap;
import java.util.Map;

import static dev.deputy.broker.storage.jooq.Tables.CLIENT_ACTIVITY;

/** jOOQ implementation of {@link ClientActivityStore}. */
@Singleton
class JooqClientActivityStore implements ClientActivityStore {
    private final Database db;

    JooqClientActivityStore(Database db) {
        this.db = db;
    }

    @Override
    public void record(String tenantId, String clientId, long at) {
        db.tx(dsl -> dsl.insertInto(CLIENT_ACTIVITY).set(CLIENT_ACTIVITY.TENANT_ID, tenantId)
                .set(CLIENT_ACTIVITY.CLIENT_ID, clientId).set(CLIENT_ACTIVITY.LAST_TOKEN_AT, at)
                .onDuplicateKeyUpdate().set(CLIENT_ACTIVITY.LAST_TOKEN_AT, at).execute());
    }

    @Override
    public Map<String, Long> lastTokens(String tenantId) {
        Map<String, Long> out = new LinkedHashMap<>();
        db.read(dsl -> dsl.select(CLIENT_ACTIVITY.CLIENT_ID, CLIENT_ACTIVITY.LAST_TOKEN_AT).from(CLIENT_ACTIVITY)
                .where(CLIENT_ACTIVITY.TENANT_ID.eq(tenantId)).orderBy(CLIENT_ACTIVITY.LAST_TOKEN_AT.desc())
                .limit(MAX_LISTED).fetch()).forEach(r -> out.put(r.value1(), r.value2()));
        return out;
    }
}
