package dev.deputy.broker.http;

import com.nimbusds.oauth2.sdk.ErrorObject;
import dev.deputy.broker.oauth.OAuthException;

/** A path names a tenant that is not configured: 404, and nothing about which tenants exist. */
public class UnknownTenantException extends OAuthException {
    public UnknownTenantException(String tenant) {
        super(new ErrorObject("not_found", "unknown tenant", 404));
    }
}
