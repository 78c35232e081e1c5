package dev.deputy.broker.authorize;

import com.nimbusds.oauth2.sdk.ErrorObject;

/** The two kinds of failure of the authorization endpoint (OAuth 2.1 §4.1.2.1). */
final class AuthorizeErrors {
    private AuthorizeErrors() {
    }

    /** A request that cannot go back to the client (unknown client, bad redirect URI): shown as a page. */
    static final class PageError extends RuntimeException {
        final String reason;
        /** the message bundle key of the text the user sees */
        final String messageKey;

        PageError(String reason, String messageKey) {
            super(reason, null, false, false);
            this.reason = reason;
            this.messageKey = messageKey;
        }
    }

    /** An error that goes back to the client's redirect URI with {@code error}, {@code state} and {@code iss}. */
    static final class RedirectError extends RuntimeException {
        final ErrorObject error;
        final String reason;

        RedirectError(ErrorObject error, String description, String reason) {
            super(description, null, false, false);
            this.error = error.setDescription(description);
            this.reason = reason;
        }
    }
}
