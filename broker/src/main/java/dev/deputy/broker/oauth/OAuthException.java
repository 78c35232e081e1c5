package dev.deputy.broker.oauth;

import com.nimbusds.oauth2.sdk.ErrorObject;
import dev.deputy.broker.audit.AuditEvent;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A protocol error to be rendered as RFC 6749 §5.2 JSON (or, at the authorization endpoint, as the redirect form).
 * It carries two texts: the {@link #error() error object} whose description the client sees (keep it safe: no
 * token, secret, stack, nor a hint whether an id exists), and the internal {@link #auditReason() audit reason}
 * with optional {@link #details() details} that only the audit log sees (fosite's hint/debug split).
 *
 * <p>Grants and endpoints throw it and never audit failures themselves: the {@link ClientFrontDoor} writes the one
 * failure entry of the request from it. A refusal that has its own audit type ({@code token.refresh_reuse}) says so
 * with {@link #auditType}; one whose entry is a whole event of its own (a policy denial) attaches it with
 * {@link #auditEvent}.
 */
public class OAuthException extends RuntimeException {
    private final transient ErrorObject error;
    private String auditReason;
    private String auditType;
    private transient AuditEvent auditEvent;
    private Map<String, Object> details;

    public OAuthException(ErrorObject error) {
        super(error.getCode() + (error.getDescription() != null ? ": " + error.getDescription() : ""), null, false, false);
        this.error = error;
    }

    public OAuthException(ErrorObject base, String description) {
        this(base.setDescription(description));
    }

    /** An error whose client text and audit reason differ. */
    public static OAuthException of(ErrorObject base, String description, String auditReason) {
        return new OAuthException(base, description).reason(auditReason);
    }

    public ErrorObject error() {
        return error;
    }

    /** The internal reason written to the audit log (never shown to the client); defaults to the description. */
    public OAuthException reason(String reason) {
        this.auditReason = reason;
        return this;
    }

    public OAuthException detail(String key, Object value) {
        if (value != null) {
            if (details == null) {
                details = new LinkedHashMap<>();
            }
            details.put(key, value);
        }
        return this;
    }

    /** The audit type of the failure entry, when not the endpoint's usual one. */
    public OAuthException auditType(String type) {
        this.auditType = type;
        return this;
    }

    /** A complete failure entry, written instead of the endpoint's usual one. */
    public OAuthException auditEvent(AuditEvent event) {
        this.auditEvent = event;
        return this;
    }

    public String auditReason() {
        return auditReason != null ? auditReason : error.getDescription();
    }

    public String auditTypeOverride() {
        return auditType;
    }

    public AuditEvent auditEventOverride() {
        return auditEvent;
    }

    public Map<String, Object> details() {
        return details == null ? Map.of() : Collections.unmodifiableMap(details);
    }
}
