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

    /** Registrations issued before {@code issuedBefore} and never used. */
    List<Registration> unusedSince(String tenantId, long issuedBefore);

    /** Sets {@code used_at} if it is still null; true if this call set it. */
    boolean markUsed(String tenantId, String clientId, long at);
}
