package dev.deputy.broker.oauth;

import dev.deputy.broker.audit.AuditEvent;

import java.util.Map;

/**
 * What a grant handler returns: the JSON body of the successful response (RFC 6749 §5.1 / RFC 8693 §2.2)
 * and the one audit event describing it, which the pipeline appends (durably) before it answers. A handler
 * whose grant changes durable state (refresh-token rotation) appends the event in the same transaction as the
 * change and returns {@link #audited}: {@code audit} is null then.
 */
public record TokenResult(Map<String, Object> body, AuditEvent audit) {
    /** The entry is already durable (written in the handler's own transaction). */
    public static TokenResult audited(Map<String, Object> body) {
        return new TokenResult(body, null);
    }
}
