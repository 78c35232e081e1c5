package dev.deputy.broker.registration;

import java.util.List;
import java.util.Optional;

/** Dynamic registrations (port; implemented in storage). */
public interface RegistrationStore {
    Optional<Registration> find(String tenantId, String clientId);

    /** Inserts or replaces. */
    void save(Registration registration);

    void delete(String tenantId, String clientId);

    int count(String tenantId);

    /** Registrations from {@code sourceAddress} that were never used (no token issued yet). */
    int countNeverUsed(String tenantId, String sourceAddress);

    /**
     * Expired registrations: never used and issued before {@code neverUsedIssuedBefore}, or last used before
     * {@code lastUsedBefore}.
     */
    List<Registration> expired(String tenantId, long neverUsedIssuedBefore, long lastUsedBefore);

    /** Records that a token was issued to the client at {@code at}; false when it has no registration. */
    boolean recordUse(String tenantId, String clientId, long at);
}
