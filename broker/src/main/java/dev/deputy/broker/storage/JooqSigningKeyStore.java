package dev.deputy.broker.storage;

import dev.deputy.broker.keys.SigningKeyStore;
import dev.deputy.broker.keys.StoredKey;
import jakarta.inject.Singleton;
import org.jooq.Field;
import org.jooq.Record;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static dev.deputy.broker.storage.jooq.Tables.SIGNING_KEYS;

/** Signing keys; every row carries its master-key MAC and a row that fails it is never listed ({@link SealedRows}). */
@Singleton
class JooqSigningKeyStore implements SigningKeyStore {
    private final Database db;
    private final SealedRows sealed;

    JooqSigningKeyStore(Database db, SealedRows sealed) {
        this.db = db;
        this.sealed = sealed;
    }

    @Override
    public List<StoredKey> list(String tenantId) {
        return sealed.valid(SealedRows.SIGNING_KEY, () -> db.read(dsl -> dsl.selectFrom(SIGNING_KEYS)
                        .where(SIGNING_KEYS.TENANT_ID.eq(tenantId))
                        .and(SIGNING_KEYS.STATE.ne(StoredKey.State.EXPIRED.name()))
                        .orderBy(SIGNING_KEYS.CREATED_AT, SIGNING_KEYS.KID)
                        .fetch()))
                .stream().map(JooqSigningKeyStore::map).toList();
    }

    private static StoredKey map(Record r) {
        return new StoredKey(r.get(SIGNING_KEYS.TENANT_ID), r.get(SIGNING_KEYS.KID), r.get(SIGNING_KEYS.ALG),
                StoredKey.State.valueOf(r.get(SIGNING_KEYS.STATE)), r.get(SIGNING_KEYS.PUBLIC_JWK),
                r.get(SIGNING_KEYS.PRIVATE_ENC), r.get(SIGNING_KEYS.CREATED_AT), r.get(SIGNING_KEYS.ACTIVATED_AT),
                r.get(SIGNING_KEYS.RETIRED_AT), r.get(SIGNING_KEYS.PUBLISH_UNTIL));
    }

    @Override
    public void insert(StoredKey k) {
        Map<Field<?>, Object> row = new LinkedHashMap<>();
        row.put(SIGNING_KEYS.TENANT_ID, k.tenantId());
        row.put(SIGNING_KEYS.KID, k.kid());
        row.put(SIGNING_KEYS.ALG, k.alg());
        row.put(SIGNING_KEYS.STATE, k.state().name());
        row.put(SIGNING_KEYS.PUBLIC_JWK, k.publicJwk());
        row.put(SIGNING_KEYS.PRIVATE_ENC, k.privateSealed());
        row.put(SIGNING_KEYS.CREATED_AT, k.createdAt());
        row.put(SIGNING_KEYS.ACTIVATED_AT, k.activatedAt());
        row.put(SIGNING_KEYS.RETIRED_AT, k.retiredAt());
        row.put(SIGNING_KEYS.PUBLISH_UNTIL, k.publishUntil());
        String mac = sealed.mac(SealedRows.SIGNING_KEY, row);
        db.tx(dsl -> dsl.insertInto(SIGNING_KEYS).set(row).set(SIGNING_KEYS.ROW_MAC, mac).execute());
    }

    @Override
    public void promote(String tenantId, String nextKid, String activeKid, long now, long publishUntil) {
        db.tx(dsl -> {
            if (activeKid != null) {
                Map<Field<?>, Object> retire = new LinkedHashMap<>();
                retire.put(SIGNING_KEYS.STATE, StoredKey.State.RETIRED.name());
                retire.put(SIGNING_KEYS.RETIRED_AT, now);
                retire.put(SIGNING_KEYS.PUBLISH_UNTIL, publishUntil);
                sealed.update(dsl, SealedRows.SIGNING_KEY,
                        SIGNING_KEYS.TENANT_ID.eq(tenantId).and(SIGNING_KEYS.KID.eq(activeKid)), retire);
            }
            Map<Field<?>, Object> activate = new LinkedHashMap<>();
            activate.put(SIGNING_KEYS.STATE, StoredKey.State.ACTIVE.name());
            activate.put(SIGNING_KEYS.ACTIVATED_AT, now);
            return sealed.update(dsl, SealedRows.SIGNING_KEY,
                    SIGNING_KEYS.TENANT_ID.eq(tenantId).and(SIGNING_KEYS.KID.eq(nextKid)), activate);
        });
    }

    @Override
    public void expire(String tenantId, String kid) {
        Map<Field<?>, Object> expire = new LinkedHashMap<>();
        expire.put(SIGNING_KEYS.STATE, StoredKey.State.EXPIRED.name());
        expire.put(SIGNING_KEYS.PRIVATE_ENC, "");
        db.tx(dsl -> sealed.update(dsl, SealedRows.SIGNING_KEY,
                SIGNING_KEYS.TENANT_ID.eq(tenantId).and(SIGNING_KEYS.KID.eq(kid)), expire));
    }
}
