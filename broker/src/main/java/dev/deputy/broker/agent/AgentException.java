package dev.deputy.broker.agent;

/**
 * A request the agent registry refuses: bad input ({@link Kind#INVALID}), something that does not exist
 * ({@link Kind#NOT_FOUND}) or a clash with the current state ({@link Kind#CONFLICT}). The message is safe to
 * show to the caller: it never contains key material.
 */
public class AgentException extends RuntimeException {
    public enum Kind {
        INVALID("invalid_request", 400), NOT_FOUND("not_found", 404), CONFLICT("conflict", 409),
        /** The admin may not do this (e.g. approve their own plan). */
        FORBIDDEN("access_denied", 403),
        /** A plan that grants a privileged role lacks a second admin's approval. */
        APPROVAL_REQUIRED("approval_required", 403);

        private final String code;
        private final int status;

        Kind(String code, int status) {
            this.code = code;
            this.status = status;
        }

        public String code() {
            return code;
        }

        public int status() {
            return status;
        }
    }

    private final Kind kind;

    public AgentException(Kind kind, String message) {
        super(message, null, false, false);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }

    public static AgentException invalid(String message) {
        return new AgentException(Kind.INVALID, message);
    }

    public static AgentException notFound(String message) {
        return new AgentException(Kind.NOT_FOUND, message);
    }

    public static AgentException conflict(String message) {
        return new AgentException(Kind.CONFLICT, message);
    }
}
