package dev.deputy.broker.registration;

import java.util.Map;

/**
 * When each OAuth client of a tenant last got a token (port; implemented in storage): every kind of client, CIMD URL
 * client ids included. {@link RegistrationUsage} writes it at most once an hour per node and client.
 */
public interface ClientActivityStore {
    /** How many clients {@link #lastTokens} answers at most. */
    int MAX_LISTED = 10_000;

    /** Records that a token was issued to the client at {@code at} (insert or replace). */
    void record(String tenantId, String clientId, long at);

    /** Client id → the last time it got a token (epoch ms), the most recent {@link #MAX_LISTED} clients. */
    Map<String, Long> lastTokens(String tenantId);
}
