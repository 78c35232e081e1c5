package dev.deputy.broker.storage;

import dev.deputy.broker.admin.AdminCredentialStore;
import dev.deputy.broker.admin.AdminRole;
import dev.deputy.broker.storage.jooq.tables.records.AdminCredentialsRecord;
import jakarta.inject.Singleton;
import org.jooq.Field;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static dev.deputy.broker.storage.jooq.Tables.ADMIN_CREDENTIALS;

/**
 * Admin API credentials; a row that fails its master-key MAC ({@link SealedRows}) is never found, nor one whose
 * scope (role, tenants, privileged, break-glass) fails its own MAC.
 */
@Singleton
class JooqAdminCredentialStore implements AdminCredentialStore {
    static final SealedRows.Spec SCOPE = new SealedRows.Spec(ADMIN_CREDENTIALS, "admin_credential_scopes", ADMIN_CREDENTIALS.SCOPE_MAC,
            List.of(ADMIN_CREDENTIALS.CLIENT_ID, ADMIN_CREDENTIALS.ROLE, ADMIN_CREDENTIALS.TENANTS, ADMIN_CREDENTIALS.PRIVILEGED,
                    ADMIN_CREDENTIALS.BREAK_GLASS),
            null, List.of(ADMIN_CREDENTIALS.CLIENT_ID));

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
                .flatMap(this::credential);
    }

    @Override
    public List<AdminCredential> list() {
        return sealed.valid(SealedRows.ADMIN_CREDENTIAL, () -> db.read(dsl -> dsl.selectFrom(ADMIN_CREDENTIALS)
                        .orderBy(ADMIN_CREDENTIALS.CLIENT_ID).fetch()))
                .stream().map(this::credential).flatMap(Optional::stream).toList();
    }

    /** Empty when the scope is present but does not verify (reported by SealedRows); a null scope is a pre-roles row. */
    private Optional<AdminCredential> credential(AdminCredentialsRecord r) {
        Scope scope = null;
        if (r.getScopeMac() != null) {
            if (!sealed.ok(SCOPE, r)) {
                return Optional.empty();
            }
            Optional<AdminRole> role = AdminRole.parse(r.getRole());
            if (role.isEmpty()) {
                return Optional.empty();
            }
            scope = new Scope(role.get(), r.getTenants() == null ? List.of() : Arrays.asList(r.getTenants().split("\n")),
                    Boolean.TRUE.equals(r.getPrivileged()), Boolean.TRUE.equals(r.getBreakGlass()));
        }
        return Optional.of(new AdminCredential(r.getClientId(), r.getSecretSha256(), r.getCreatedAt(), r.getDisabled(), scope,
                r.getRotatedAt(), r.getLastUsedAt()));
    }

    @Override
    public boolean createIfAbsent(AdminCredential c) {
        Map<Field<?>, Object> row = new LinkedHashMap<>();
        row.put(ADMIN_CREDENTIALS.CLIENT_ID, c.clientId());
        row.put(ADMIN_CREDENTIALS.SECRET_SHA256, c.secretSha256());
        row.put(ADMIN_CREDENTIALS.CREATED_AT, c.createdAt());
        row.put(ADMIN_CREDENTIALS.DISABLED, c.disabled());
        String mac = sealed.mac(SealedRows.ADMIN_CREDENTIAL, row);
        Map<Field<?>, Object> scope = c.scope() == null ? Map.of() : scopeRow(c.clientId(), c.scope());
        return db.tx(dsl -> dsl.insertInto(ADMIN_CREDENTIALS).set(row).set(ADMIN_CREDENTIALS.ROW_MAC, mac).set(scope)
                .onDuplicateKeyIgnore().execute()) == 1;
    }

    private Map<Field<?>, Object> scopeRow(String clientId, Scope s) {
        Map<Field<?>, Object> row = new LinkedHashMap<>();
        row.put(ADMIN_CREDENTIALS.CLIENT_ID, clientId);
        row.put(ADMIN_CREDENTIALS.ROLE, s.role().id());
        row.put(ADMIN_CREDENTIALS.TENANTS, String.join("\n", s.tenants()));
        row.put(ADMIN_CREDENTIALS.PRIVILEGED, s.privileged());
        row.put(ADMIN_CREDENTIALS.BREAK_GLASS, s.breakGlass());
        row.put(ADMIN_CREDENTIALS.SCOPE_MAC, sealed.mac(SCOPE, row));
        row.remove(ADMIN_CREDENTIALS.CLIENT_ID);
        return row;
    }

    @Override
    public boolean any() {
        return db.read(dsl -> dsl.fetchExists(ADMIN_CREDENTIALS));
    }

    @Override
    public boolean adoptScope(String clientId, Scope scope) {
        Map<Field<?>, Object> row = scopeRow(clientId, scope);
        return db.tx(dsl -> dsl.update(ADMIN_CREDENTIALS).set(row).where(ADMIN_CREDENTIALS.CLIENT_ID.eq(clientId))
                .and(ADMIN_CREDENTIALS.SCOPE_MAC.isNull()).execute()) == 1;
    }

    @Override
    public boolean rotate(String clientId, String secretSha256, long at) {
        return db.tx(dsl -> {
            Map<Field<?>, Object> changes = new LinkedHashMap<>();
            changes.put(ADMIN_CREDENTIALS.SECRET_SHA256, secretSha256);
            changes.put(ADMIN_CREDENTIALS.DISABLED, false);
            int n = sealed.update(dsl, SealedRows.ADMIN_CREDENTIAL, ADMIN_CREDENTIALS.CLIENT_ID.eq(clientId), changes);
            if (n == 1) {
                dsl.update(ADMIN_CREDENTIALS).set(ADMIN_CREDENTIALS.ROTATED_AT, at).where(ADMIN_CREDENTIALS.CLIENT_ID.eq(clientId)).execute();
            }
            return n == 1;
        });
    }

    @Override
    public boolean setDisabled(String clientId, boolean disabled) {
        return db.tx(dsl -> sealed.update(dsl, SealedRows.ADMIN_CREDENTIAL, ADMIN_CREDENTIALS.CLIENT_ID.eq(clientId),
                Map.of(ADMIN_CREDENTIALS.DISABLED, disabled))) == 1;
    }

    @Override
    public void markUsed(String clientId, long at) {
        db.tx(dsl -> dsl.update(ADMIN_CREDENTIALS).set(ADMIN_CREDENTIALS.LAST_USED_AT, at)
                .where(ADMIN_CREDENTIALS.CLIENT_ID.eq(clientId)).execute());
    }
}
