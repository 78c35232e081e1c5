package dev.deputy.broker.oauth;

import com.nimbusds.oauth2.sdk.AccessTokenResponse;
import dev.deputy.broker.audit.AuditEvent;

import java.util.Map;

/**
 * What a grant handler returns: the typed successful response (RFC 6749 §5.1 / RFC 8693 §2.2, a Nimbus
 * {@link AccessTokenResponse}, usually built by {@link GrantSupport#response}) and the one audit event describing
 * it, which the pipeline appends (durably) before it answers. A handler whose grant changes durable state
 * (refresh-token rotation) appends the event in the same transaction as the change and returns {@link #audited}:
 * {@code audit} is null then.
 */
public record TokenResult(AccessTokenResponse response, AuditEvent audit) {
    /** The entry is already durable (written in the handler's own transaction). */
    public static TokenResult audited(AccessTokenResponse response) {
        return new TokenResult(response, null);
    }

    /** The JSON body, rendered in this one place. */
    public Map<String, Object> body() {
        return response.toJSONObject();
    }
}
