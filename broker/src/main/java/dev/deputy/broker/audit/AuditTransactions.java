package dev.deputy.broker.audit;

import java.util.function.Function;

/**
 * A state change and its audit entries in one durable transaction (port; storage implements it with
 * {@code AuditedTransactions}). Every durable-store write the change makes on this thread joins the transaction,
 * the entries appended through the {@link Appender} are written in it, and the whole commits or rolls back as
 * one: no state change without its entry, no entry for a change that did not happen. The tenant's chain is held
 * while the change runs (keep it short; never call {@link AuditLog#append} inside it). A sequence conflict with
 * another node re-runs the change in a fresh transaction, so it must not have effects outside the database
 * (publish cache invalidations, ephemeral-store writes and revocation fan-out after it returns).
 */
public interface AuditTransactions {
    <T> T run(String tenantId, Function<Appender, T> change);

    /** Appends an event inside the running transaction; returns the sealed entry (durable once the change commits). */
    @FunctionalInterface
    interface Appender {
        AuditEntry append(AuditEvent event);
    }
}
