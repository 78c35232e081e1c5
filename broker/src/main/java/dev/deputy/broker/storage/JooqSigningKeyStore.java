package dev.deputy.broker.storage;

import dev.deputy.broker.keys.SigningKeyStore;
import dev.deputy.broker.keys.StoredKey;
import jakarta.inject.Singleton;
import org.jooq.Record;

import java.util.List;

import static dev.deputy.broker.storage.jooq.Tables.SIGNING_KEYS;

@Singleton
class JooqSigningKeyStore implements SigningKeyStore {
    private final Database db;

    JooqSigningKeyStore(Database db) {
        this.db = db;
    }

    @Override
    public List<StoredKey> list(String tenantId) {
        return db.read(dsl -> dsl.selectFrom(SIGNING_KEYS)
                .where(SIGNING_KEYS.TENANT_ID.eq(tenantId))
                .and(SIGNING_KEYS.STATE.ne(StoredKey.State.EXPIRED.name()))
                .orderBy(SIGNING_KEYS.CREATED_AT, SIGNING_KEYS.KID)
                .fetch(JooqSigningKeyStore::map));
    }

    private static StoredKey map(Record r) {
        return new StoredKey(r.get(SIGNING_KEYS.TENANT_ID), r.get(SIGNING_KEYS.KID), r.get(SIGNING_KEYS.ALG),
                StoredKey.State.valueOf(r.get(SIGNING_KEYS.STATE)), r.get(SIGNING_KEYS.PUBLIC_JWK),
                r.get(SIGNING_KEYS.PRIVATE_ENC), r.get(SIGNING_KEYS.CREATED_AT), r.get(SIGNING_KEYS.ACTIVATED_AT),
                r.get(SIGNING_KEYS.RETIRED_AT), r.get(SIGNING_KEYS.PUBLISH_UNTIL));
    }

    @Override
    public void insert(StoredKey k) {
        db.tx(dsl -> dsl.insertInto(SIGNING_KEYS)
                .set(SIGNING_KEYS.TENANT_ID, k.tenantId())
                .set(SIGNING_KEYS.KID, k.kid())
                .set(SIGNING_KEYS.ALG, k.alg())
                .set(SIGNING_KEYS.STATE, k.state().name())
                .set(SIGNING_KEYS.PUBLIC_JWK, k.publicJwk())
                .set(SIGNING_KEYS.PRIVATE_ENC, k.privateSealed())
                .set(SIGNING_KEYS.CREATED_AT, k.createdAt())
                .set(SIGNING_KEYS.ACTIVATED_AT, k.activatedAt())
                .set(SIGNING_KEYS.RETIRED_AT, k.retiredAt())
                .set(SIGNING_KEYS.PUBLISH_UNTIL, k.publishUntil())
                .execute());
    }

    @Override
    public void promote(String tenantId, String nextKid, String activeKid, long now, long publishUntil) {
        db.tx(dsl -> {
            if (activeKid != null) {
                dsl.update(SIGNING_KEYS)
                        .set(SIGNING_KEYS.STATE, StoredKey.State.RETIRED.name())
                        .set(SIGNING_KEYS.RETIRED_AT, now)
                        .set(SIGNING_KEYS.PUBLISH_UNTIL, publishUntil)
                        .where(SIGNING_KEYS.TENANT_ID.eq(tenantId).and(SIGNING_KEYS.KID.eq(activeKid)))
                        .execute();
            }
            return dsl.update(SIGNING_KEYS)
                    .set(SIGNING_KEYS.STATE, StoredKey.State.ACTIVE.name())
                    .set(SIGNING_KEYS.ACTIVATED_AT, now)
                    .where(SIGNING_KEYS.TENANT_ID.eq(tenantId).and(SIGNING_KEYS.KID.eq(nextKid)))
                    .execute();
        });
    }

    @Override
    public void expire(String tenantId, String kid) {
        db.tx(dsl -> dsl.update(SIGNING_KEYS)
                .set(SIGNING_KEYS.STATE, StoredKey.State.EXPIRED.name())
                .set(SIGNING_KEYS.PRIVATE_ENC, "")
                .where(SIGNING_KEYS.TENANT_ID.eq(tenantId).and(SIGNING_KEYS.KID.eq(kid)))
                .execute());
    }
}
