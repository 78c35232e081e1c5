package dev.deputy.broker.registration;

import com.nimbusds.oauth2.sdk.ErrorObject;

/** A rejected registration or management request: the RFC 7591 §3.2.2 / RFC 7592 error and an audit reason. */
public class RegistrationException extends RuntimeException {
    private final transient ErrorObject error;
    private final String reason;

    public RegistrationException(ErrorObject error, String description, String reason) {
        super(description, null, false, false);
        this.error = error.setDescription(description);
        this.reason = reason;
    }

    public ErrorObject error() {
        return error;
    }

    public String reason() {
        return reason;
    }
}
