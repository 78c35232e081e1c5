package dev.deputy.broker.support;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.util.Base64;

/** Certificate thumbprints, in one place for the CA ({@code pki}) and client authentication ({@code oauth}). */
public final class Thumbprints {
    private Thumbprints() {
    }

    /** RFC 8705 §3.1 {@code x5t#S256}: base64url (no padding) SHA-256 of the DER certificate. */
    public static String x5tS256(X509Certificate cert) {
        try {
            return Base64.getUrlEncoder().withoutPadding()
                    .encodeToString(MessageDigest.getInstance("SHA-256").digest(cert.getEncoded()));
        } catch (NoSuchAlgorithmException | CertificateEncodingException e) {
            throw new IllegalStateException(e);
        }
    }
}
