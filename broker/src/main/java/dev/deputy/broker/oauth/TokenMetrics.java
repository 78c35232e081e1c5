package dev.deputy.broker.oauth;

/**
 * What the token pipeline reports to the metrics (a port: the Micrometer side lives in {@code metrics}). Every value
 * passed here is already bounded: a tenant that exists, a grant type with a handler (or {@link #OTHER}), a client
 * authentication method of the fixed set, an OAuth error code. Never a client id or a user id.
 */
public interface TokenMetrics {
    /** The label value for anything outside the known set (an unsupported grant type, an unknown error code). */
    String OTHER = "other";
    /** The {@code method} label of a request whose client did not authenticate. */
    String UNAUTHENTICATED = "unauthenticated";

    /** A token response was sent (RFC 6749 §5.1). */
    void issued(String tenant, String grantType, String method);

    /** A token request was refused with {@code error} (RFC 6749 §5.2). */
    void refused(String tenant, String grantType, String method, String error);

    /** A refusal at introspection, revocation or tool-call reports, by endpoint. */
    void endpointRefused(String tenant, ClientFrontDoor.Endpoint endpoint, String method, String error);

    /**
     * A {@code 503 temporarily_unavailable} answer (a shared store away, the audit trail unwritable), at any endpoint,
     * by what was unavailable ({@link #unavailableReason}).
     */
    void unavailable(String reason);

    /** The delegation policy decided a token exchange (RFC 8693) by {@code rule}. */
    void exchangeDecided(String tenant, String rule, boolean allowed);

    /** Reports nothing (unit tests that build the pipeline by hand). */
    TokenMetrics NONE = new TokenMetrics() {
        @Override
        public void issued(String tenant, String grantType, String method) {
        }

        @Override
        public void refused(String tenant, String grantType, String method, String error) {
        }

        @Override
        public void endpointRefused(String tenant, ClientFrontDoor.Endpoint endpoint, String method, String error) {
        }

        @Override
        public void unavailable(String reason) {
        }

        @Override
        public void exchangeDecided(String tenant, String rule, boolean allowed) {
        }
    };

    /** The {@code reason} label values of {@link #unavailable}: what was away. */
    java.util.Set<String> UNAVAILABLE_REASONS = java.util.Set.of("database", "ephemeral", "rate_limiter", "audit",
            "audit_journal", "audit_chain", "agent_ca", "replay_cache", OTHER);

    /** A dependency name ({@code ServiceUnavailableException.dependency()}: "rate limiter", ...) as a label value. */
    static String unavailableReason(String dependency) {
        if (dependency == null) {
            return OTHER;
        }
        String r = dependency.trim().toLowerCase(java.util.Locale.ROOT).replace(' ', '_').replace('-', '_');
        return UNAVAILABLE_REASONS.contains(r) ? r : OTHER;
    }
}
