package dev.deputy.connectors;

import java.util.Locale;
import java.util.Objects;

/**
 * A connector failure with a stable, machine-readable {@link Code}. Messages are safe to log and to
 * show an operator: they never contain tokens, codes, secrets or key material.
 */
public final class ConnectorException extends RuntimeException {

    /** Stable error codes; {@link #wire()} is the snake_case form used in logs, audit and the CLI. */
    public enum Code {
        INVALID_CONFIG,
        DISCOVERY_FAILED,
        JWKS_UNAVAILABLE,
        STATE_MISMATCH,
        UPSTREAM_ERROR,
        INVALID_CALLBACK,
        TOKEN_REQUEST_FAILED,
        INVALID_ID_TOKEN,
        INVALID_TOKEN,
        ALGORITHM_NOT_ALLOWED,
        ISSUER_MISMATCH,
        AUDIENCE_MISMATCH,
        EXPIRED,
        NONCE_MISMATCH,
        TENANT_NOT_ALLOWED,
        ORGANIZATION_MISMATCH,
        USERINFO_FAILED,
        SUBJECT_MISMATCH,
        UNSUPPORTED_TOKEN;

        public String wire() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    private final Code code;

    public ConnectorException(Code code, String message) {
        super(message);
        this.code = Objects.requireNonNull(code);
    }

    /** The cause is kept for debugging; callers must not render its message to end users. */
    public ConnectorException(Code code, String message, Throwable cause) {
        super(message, cause);
        this.code = Objects.requireNonNull(code);
    }

    public Code code() {
        return code;
    }

    @Override
    public String toString() {
        return "ConnectorException[" + code.wire() + "]: " + getMessage();
    }
}
