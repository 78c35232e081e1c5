package dev.deputy.broker.pki;

/** A certificate signing request that cannot be accepted; the message is safe to show to the admin. */
public class CsrException extends RuntimeException {
    public CsrException(String message) {
        super(message, null, false, false);
    }
}
