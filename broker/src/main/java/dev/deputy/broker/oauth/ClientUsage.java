package dev.deputy.broker.oauth;

/**
 * Told when the token endpoint has issued a token to a client (after its audit entry is durable). Dynamic client
 * registrations count only this as use (issue 14 finding 4); implementations must be quick and never throw.
 */
public interface ClientUsage {
    ClientUsage NONE = (tenantId, client) -> { };

    void tokenIssued(String tenantId, AuthenticatedClient client);
}
