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
            // Nimbus refuses (IllegalArgumentException) a description outside RFC 6749's character set, and parser
            // messages may quote the offending value
            this.error = error.setDescription(describable(description));
            this.reason = reason;
        }
    }

    /** RFC 6749 §4.1.2.1: error_description is limited to %x20-21 / %x23-5B / %x5D-7E; others become '_'. */
    static String describable(String description) {
        return description == null ? null : description.replaceAll("[^\\x20-\\x21\\x23-\\x5B\\x5D-\\x7E]", "_");
    }
}
