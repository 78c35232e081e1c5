package dev.deputy.broker.registration;

import com.nimbusds.oauth2.sdk.ErrorObject;

/** A rejected registration or management request: the RFC 7591 §3.2.2 / RFC 7592 error and an audit reason. */
public class RegistrationException extends RuntimeException {
    private final transient ErrorObject error;
    private final String reason;

    public RegistrationException(ErrorObject error, String description, String reason) {
        super(description, null, false, false);
        // RFC 6749 §5.2: error_description is %x20-21 / %x23-5B / %x5D-7E (it may quote client input)
        this.error = error.setDescription(description == null ? null : description.replace('"', '\'').replace('\\', '/')
                .replaceAll("[^\\x20-\\x21\\x23-\\x5B\\x5D-\\x7E]", "_"));
        this.reason = reason;
    }

    public ErrorObject error() {
        return error;
    }

    public String reason() {
        return reason;
    }
}
