package dev.deputy.broker.admin;

/**
 * An admin request refused for who asks, not for what it says: 403 {@code access_denied} (no role for it in that
 * tenant, a missing CSRF token) or 401 {@code insufficient_user_authentication} with the RFC 9470 step-up
 * challenge. Rendered and audited once, by {@link AdminErrors}.
 */
public class AdminRefusal extends RuntimeException {
    private final int status;
    private final String error;
    private final String challenge;

    private AdminRefusal(int status, String error, String description, String challenge) {
        super(description, null, false, false);
        this.status = status;
        this.error = error;
        this.challenge = challenge;
    }

    public static AdminRefusal forbidden(String description) {
        return new AdminRefusal(403, "access_denied", description, null);
    }

    /** RFC 9470 §3: 401 with {@code WWW-Authenticate: Bearer error="insufficient_user_authentication", ...}. */
    public static AdminRefusal stepUp(String description, String challenge) {
        return new AdminRefusal(401, "insufficient_user_authentication", description, challenge);
    }

    public int status() {
        return status;
    }

    public String error() {
        return error;
    }

    /** The WWW-Authenticate value, or null. */
    public String challenge() {
        return challenge;
    }
}
