package dev.deputy.broker.agent;

import java.util.Optional;

/**
 * Finds the OAuth client behind a {@code client_id}: a registered one (config, admin API, DCR) or one
 * identified by a Client ID Metadata Document URL. Used by the authorization endpoint and by public-client
 * authentication, so both see the same clients.
 */
public interface ClientLookup {
    Optional<OAuthClient> find(String tenantId, String clientId);
}
