package dev.deputy.broker.admin;

import java.util.List;
import java.util.Optional;

/** Admin API client credentials (port; implemented in storage). */
public interface AdminCredentialStore {
    /**
     * What a credential may do. Sealed with its own MAC; a credential written before roles existed has none
     * ({@code null}) until the bootstrap gives the break-glass credential its scope.
     */
    record Scope(AdminRole role, List<String> tenants, boolean privileged, boolean breakGlass) {
        public Scope {
            tenants = role == AdminRole.SUPER_ADMIN || tenants == null || tenants.isEmpty() ? List.of(AdminGrant.ALL) : List.copyOf(tenants);
        }

        public AdminGrant grant() {
            return new AdminGrant(role, tenants);
        }
    }

    record AdminCredential(String clientId, String secretSha256, long createdAt, boolean disabled, Scope scope,
                           Long rotatedAt, Long lastUsedAt) {
        public AdminCredential(String clientId, String secretSha256, long createdAt, boolean disabled, Scope scope) {
            this(clientId, secretSha256, createdAt, disabled, scope, null, null);
        }
    }

    Optional<AdminCredential> find(String clientId);

    List<AdminCredential> list();

    /** Inserts unless present; true when this call created it. */
    boolean createIfAbsent(AdminCredential credential);

    boolean any();

    /** Gives an unscoped (pre-roles) credential its scope; false when it already has one or is absent. */
    boolean adoptScope(String clientId, Scope scope);

    /** A new secret (its SHA-256); re-enables the credential. False when absent or its row does not verify. */
    boolean rotate(String clientId, String secretSha256, long at);

    boolean setDisabled(String clientId, boolean disabled);

    void markUsed(String clientId, long at);
}
