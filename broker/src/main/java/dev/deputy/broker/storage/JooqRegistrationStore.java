package dev.deputy.broker.storage;

import dev.deputy.broker.registration.Registration;
import dev.deputy.broker.registration.RegistrationStore;
import jakarta.inject.Singleton;
import org.jooq.Field;
import org.jooq.Record;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static dev.deputy.broker.storage.jooq.Tables.CLIENT_REGISTRATIONS;

/** jOOQ implementation of {@link RegistrationStore}. */
@Singleton
class JooqRegistrationStore implements RegistrationStore {
    private final Database db;
    private final SealedRows sealed;

    JooqRegistrationStore(Database db, SealedRows sealed) {
        this.db = db;
        this.sealed = sealed;
    }

    private static Registration map(Record r) {
        return new Registration(r.get(CLIENT_REGISTRATIONS.TENANT_ID), r.get(CLIENT_REGISTRATIONS.CLIENT_ID),
                r.get(CLIENT_REGISTRATIONS.METADATA), r.get(CLIENT_REGISTRATIONS.ACCESS_TOKEN_HASH),
                r.get(CLIENT_REGISTRATIONS.ISSUED_AT), r.get(CLIENT_REGISTRATIONS.USED_AT),
                r.get(CLIENT_REGISTRATIONS.SOURCE_ADDRESS));
    }

    @Override
    public Optional<Registration> find(String tenantId, String clientId) {
        return sealed.validOne(SealedRows.REGISTRATION, () -> db.read(dsl -> dsl.selectFrom(CLIENT_REGISTRATIONS)
                .where(CLIENT_REGISTRATIONS.TENANT_ID.eq(tenantId).and(CLIENT_REGISTRATIONS.CLIENT_ID.eq(clientId)))
                .fetchOptional())).map(JooqRegistrationStore::map);
    }

    @Override
    public void save(Registration r) {
        Map<Field<?>, Object> row = new LinkedHashMap<>();
        row.put(CLIENT_REGISTRATIONS.TENANT_ID, r.tenantId());
        row.put(CLIENT_REGISTRATIONS.CLIENT_ID, r.clientId());
        row.put(CLIENT_REGISTRATIONS.METADATA, r.metadataJson());
        row.put(CLIENT_REGISTRATIONS.ACCESS_TOKEN_HASH, r.accessTokenHash());
        String mac = sealed.mac(SealedRows.REGISTRATION, row);
        db.tx(dsl -> dsl.insertInto(CLIENT_REGISTRATIONS).set(row).set(CLIENT_REGISTRATIONS.ROW_MAC, mac)
                .set(CLIENT_REGISTRATIONS.ISSUED_AT, r.issuedAt()).set(CLIENT_REGISTRATIONS.USED_AT, r.usedAt())
                .set(CLIENT_REGISTRATIONS.SOURCE_ADDRESS, r.sourceAddress())
                .onDuplicateKeyUpdate().set(CLIENT_REGISTRATIONS.ROW_MAC, mac)
                .set(CLIENT_REGISTRATIONS.METADATA, r.metadataJson())
                .set(CLIENT_REGISTRATIONS.ACCESS_TOKEN_HASH, r.accessTokenHash())
                .set(CLIENT_REGISTRATIONS.USED_AT, r.usedAt()).execute());
    }

    @Override
    public void delete(String tenantId, String clientId) {
        db.tx(dsl -> dsl.deleteFrom(CLIENT_REGISTRATIONS).where(CLIENT_REGISTRATIONS.TENANT_ID.eq(tenantId)
                .and(CLIENT_REGISTRATIONS.CLIENT_ID.eq(clientId))).execute());
    }

    @Override
    public int count(String tenantId) {
        return db.read(dsl -> dsl.fetchCount(CLIENT_REGISTRATIONS, CLIENT_REGISTRATIONS.TENANT_ID.eq(tenantId)));
    }

    @Override
    public int countNeverUsed(String tenantId, String sourceAddress) {
        return db.read(dsl -> dsl.fetchCount(CLIENT_REGISTRATIONS, CLIENT_REGISTRATIONS.TENANT_ID.eq(tenantId)
                .and(CLIENT_REGISTRATIONS.SOURCE_ADDRESS.eq(sourceAddress)).and(CLIENT_REGISTRATIONS.USED_AT.isNull())));
    }

    @Override
    public List<Registration> expired(String tenantId, long neverUsedIssuedBefore, long lastUsedBefore) {
        return db.read(dsl -> dsl.selectFrom(CLIENT_REGISTRATIONS).where(CLIENT_REGISTRATIONS.TENANT_ID.eq(tenantId)
                        .and(CLIENT_REGISTRATIONS.USED_AT.isNull().and(CLIENT_REGISTRATIONS.ISSUED_AT.lt(neverUsedIssuedBefore))
                                .or(CLIENT_REGISTRATIONS.USED_AT.lt(lastUsedBefore))))
                .limit(1000)
                .fetch(JooqRegistrationStore::map));
    }

    @Override
    public boolean recordUse(String tenantId, String clientId, long at) {
        return db.tx(dsl -> dsl.update(CLIENT_REGISTRATIONS).set(CLIENT_REGISTRATIONS.USED_AT, at)
                .where(CLIENT_REGISTRATIONS.TENANT_ID.eq(tenantId).and(CLIENT_REGISTRATIONS.CLIENT_ID.eq(clientId)))
                .execute()) == 1;
    }
}
