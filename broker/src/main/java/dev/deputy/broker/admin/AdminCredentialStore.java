package dev.deputy.broker.admin;

import java.util.Optional;

/** Admin API client credentials (port; implemented in storage). */
public interface AdminCredentialStore {
    record AdminCredential(String clientId, String secretSha256, long createdAt, boolean disabled) {
    }

    Optional<AdminCredential> find(String clientId);

    /** Inserts unless present; true when this call created it. */
    boolean createIfAbsent(AdminCredential credential);

    boolean any();
}
