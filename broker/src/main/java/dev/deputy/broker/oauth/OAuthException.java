package dev.deputy.broker.oauth;

import com.nimbusds.oauth2.sdk.ErrorObject;

/**
 * A protocol error to be rendered as RFC 6749 §5.2 JSON (or, at the authorization endpoint, as the
 * redirect form). The description is shown to the client: keep it safe (no token, secret or stack).
 */
public class OAuthException extends RuntimeException {
    private final transient ErrorObject error;

    public OAuthException(ErrorObject error) {
        super(error.getCode() + (error.getDescription() != null ? ": " + error.getDescription() : ""), null, false, false);
        this.error = error;
    }

    public OAuthException(ErrorObject base, String description) {
        this(base.setDescription(description));
    }

    public ErrorObject error() {
        return error;
    }
}
