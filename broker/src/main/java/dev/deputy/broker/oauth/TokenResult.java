package dev.deputy.broker.oauth;

import dev.deputy.broker.audit.AuditEvent;

import java.util.Map;

/**
 * What a grant handler returns: the JSON body of the successful response (RFC 6749 §5.1 / RFC 8693 §2.2)
 * and the audit event describing it. The pipeline appends the event (durably) before it answers.
 */
public record TokenResult(Map<String, Object> body, AuditEvent audit) {
}
