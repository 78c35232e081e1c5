package dev.deputy.broker.storage;

import dev.deputy.broker.admin.AdminCredentialStore;
import jakarta.inject.Singleton;
import org.jooq.Field;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

import static dev.deputy.broker.storage.jooq.Tables.ADMIN_CREDENTIALS;

/** Admin API credentials; a row that fails its master-key MAC ({@link SealedRows}) is never found. */
@Singleton
class JooqAdminCredentialStore implements AdminCredentialStore {
    private final Database db;
    private final SealedRows sealed;

    JooqAdminCredentialStore(Database db, SealedRows sealed) {
        this.db = db;
        this.sealed = sealed;
    }

    @Override
    public Optional<AdminCredential> find(String clientId) {
        return sealed.validOne(SealedRows.ADMIN_CREDENTIAL, () -> db.read(dsl -> dsl.selectFrom(ADMIN_CREDENTIALS)
                        .where(ADMIN_CREDENTIALS.CLIENT_ID.eq(clientId)).fetchOptional()))
                .map(r -> new AdminCredential(r.getClientId(), r.getSecretSha256(), r.getCreatedAt(), r.getDisabled()));
    }

    @Override
    public boolean createIfAbsent(AdminCredential c) {
        Map<Field<?>, Object> row = new LinkedHashMap<>();
        row.put(ADMIN_CREDENTIALS.CLIENT_ID, c.clientId());
        row.put(ADMIN_CREDENTIALS.SECRET_SHA256, c.secretSha256());
        row.put(ADMIN_CREDENTIALS.CREATED_AT, c.createdAt());
        row.put(ADMIN_CREDENTIALS.DISABLED, c.disabled());
        String mac = sealed.mac(SealedRows.ADMIN_CREDENTIAL, row);
        return db.tx(dsl -> dsl.insertInto(ADMIN_CREDENTIALS).set(row).set(ADMIN_CREDENTIALS.ROW_MAC, mac)
                .onDuplicateKeyIgnore().execute()) == 1;
    }

    @Override
    public boolean any() {
        return db.read(dsl -> dsl.fetchExists(ADMIN_CREDENTIALS));
    }
}
