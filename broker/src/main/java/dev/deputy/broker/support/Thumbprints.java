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

    /**
     * Thumbprints of the certificates seen lately (a pure function of the certificate's bytes: a forwarded client
     * certificate is the same parsed instance on every request, so its thumbprint is computed once). Bounded: past
     * {@value #MAX_KNOWN} the map starts over.
     */
    private static final java.util.Map<X509Certificate, String> KNOWN = new java.util.concurrent.ConcurrentHashMap<>();
    static final int MAX_KNOWN = 1024;

    /** RFC 8705 §3.1 {@code x5t#S256}: base64url (no padding) SHA-256 of the DER certificate. */
    public static String x5tS256(X509Certificate cert) {
        String known = KNOWN.get(cert);
        if (known != null) {
            return known;
        }
        String fresh = digest(cert);
        if (KNOWN.size() >= MAX_KNOWN) {
            KNOWN.clear();
        }
        KNOWN.put(cert, fresh);
        return fresh;
    }

    private static String digest(X509Certificate cert) {
        try {
            return Base64.getUrlEncoder().withoutPadding()
                    .encodeToString(MessageDigest.getInstance("SHA-256").digest(cert.getEncoded()));
        } catch (NoSuchAlgorithmException | CertificateEncodingException e) {
            throw new IllegalStateException(e);
        }
    }
}
