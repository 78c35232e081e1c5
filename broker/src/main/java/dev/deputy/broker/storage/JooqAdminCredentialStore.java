package dev.deputy.broker.storage;

import dev.deputy.broker.admin.AdminCredentialStore;
import jakarta.inject.Singleton;

import java.util.Optional;

import static dev.deputy.broker.storage.jooq.Tables.ADMIN_CREDENTIALS;

@Singleton
class JooqAdminCredentialStore implements AdminCredentialStore {
    private final Database db;

    JooqAdminCredentialStore(Database db) {
        this.db = db;
    }

    @Override
    public Optional<AdminCredential> find(String clientId) {
        return db.read(dsl -> dsl.selectFrom(ADMIN_CREDENTIALS).where(ADMIN_CREDENTIALS.CLIENT_ID.eq(clientId))
                .fetchOptional(r -> new AdminCredential(r.getClientId(), r.getSecretSha256(), r.getCreatedAt(),
                        r.getDisabled())));
    }

    @Override
    public boolean createIfAbsent(AdminCredential c) {
        return db.tx(dsl -> dsl.insertInto(ADMIN_CREDENTIALS)
                .set(ADMIN_CREDENTIALS.CLIENT_ID, c.clientId())
                .set(ADMIN_CREDENTIALS.SECRET_SHA256, c.secretSha256())
                .set(ADMIN_CREDENTIALS.CREATED_AT, c.createdAt())
                .set(ADMIN_CREDENTIALS.DISABLED, c.disabled())
                .onDuplicateKeyIgnore().execute()) == 1;
    }

    @Override
    public boolean any() {
        return db.read(dsl -> dsl.fetchExists(ADMIN_CREDENTIALS));
    }
}
