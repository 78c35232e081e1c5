package dev.deputy.broker.agent;

import java.util.List;

/**
 * Filters of a page of a tenant's clients (the console's client list); null means "any". Answered by the store in SQL
 * with keyset pages in client-id order, so that a page reads its own rows, not the tenant's whole registry.
 *
 * <p>The list holds the tenant's client rows (config files, admin API, dynamic registration) and the Client ID Metadata
 * Document clients the tenant has seen — URL client ids ({@code http(s)://…}) that have no row but got a token
 * ({@code client_activity}) or a user's consent. Those are kind {@code cimd}, external, and found by their id only.
 *
 * @param kind     {@code config}, {@code api} (also a row of any other origin), {@code dcr} or {@code cimd}
 * @param internal whether the tenant pre-approved the client (a metadata-document client never is)
 * @param search   a lower-case needle found in the client id or the name compared in lower case
 */
public record ClientQuery(String kind, Boolean internal, String search) {
    /** The kinds of the list, as the console names them. */
    public static final List<String> KINDS = List.of("config", "api", "dcr", "cimd");

    public static final ClientQuery ALL = new ClientQuery(null, null, null);

    /** The kind of a client row ({@code managed_by}; an origin the list does not name is {@code api}). */
    public static String kind(String managedBy) {
        return KINDS.contains(managedBy) ? managedBy : "api";
    }

    /**
     * One client of the list: its row, or (a metadata-document client) none.
     *
     * @param lastToken when it last got a token, as {@code client_activity} recorded it (null: not recorded)
     */
    public record Listed(String clientId, OAuthClient client, Long lastToken) {
        public String kind() {
            return client == null ? "cimd" : ClientQuery.kind(client.managedBy());
        }
    }

    /**
     * A page in client-id order, and how many clients match in all.
     *
     * @param more whether the list goes on past the page in the direction it was read (after the last of a page
     *             read forwards, before the first of a page read backwards)
     */
    public record Page(List<Listed> clients, boolean more, int total) {
    }
}
