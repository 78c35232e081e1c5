package dev.deputy.broker.clientauth;

import com.nimbusds.oauth2.sdk.OAuth2Error;
import dev.deputy.broker.agent.AgentCredential;
import dev.deputy.broker.keys.CryptoProvider;
import dev.deputy.broker.oauth.AgentDirectory;
import dev.deputy.broker.oauth.ClientCertificates;
import dev.deputy.broker.oauth.OAuthException;
import dev.deputy.broker.pki.AgentCa;
import jakarta.inject.Singleton;

import java.security.GeneralSecurityException;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Certificate checks of mTLS client authentication (RFC 8705 §2). {@code tls_client_auth}: the certificate chains
 * to the tenant's agent CA, is within validity, is a registered, unrevoked credential of this agent, and its URI
 * SAN is this agent's SPIFFE id. {@code self_signed_tls_client_auth}: its SHA-256 thumbprint is pinned as a
 * usable credential of this agent, and it is within validity.
 *
 * <p>The CA signature check depends only on the certificate's bytes and the CA key, so its result is remembered
 * per thumbprint; validity and credential status are evaluated on every request.
 */
@Singleton
public class CertificateVerifier {
    private static final int MAX_CHAIN_CACHE = 50_000;
    private final AgentCa ca;
    private final Map<String, Boolean> chainsToCa = new ConcurrentHashMap<>();

    public CertificateVerifier(AgentCa ca) {
        this.ca = ca;
    }

    /** RFC 8705 §2.1 (PKI method). Returns the thumbprint for {@code cnf.x5t#S256}. */
    public String verifyCaIssued(String tenantId, AgentDirectory.Entry entry, X509Certificate cert) {
        String thumbprint = ClientCertificates.thumbprint(cert);
        AgentCa.Ca tenantCa = ca.ca(tenantId);
        if (!chainsTo(tenantId, thumbprint, cert, tenantCa.certificate())) {
            throw invalid("client certificate is not issued by the tenant's agent CA");
        }
        checkValidity(cert);
        String expected = ca.spiffeId(tenantId, entry.agent().id());
        List<String> uris = uriSans(cert);
        // SPIFFE X.509-SVID §2: exactly one URI SAN; RFC 8705 §2.1.2: it must be the one registered for the client
        if (uris.size() != 1 || !uris.get(0).equals(expected)) {
            throw invalid("client certificate does not name this agent");
        }
        AgentCredential cred = credential(entry, thumbprint, AgentCredential.Kind.CA_CERT);
        if (cred == null) {
            throw invalid("client certificate is not a registered credential of this agent");
        }
        if (!cred.usableAt(System.currentTimeMillis())) {
            throw invalid("client certificate is revoked or no longer valid");
        }
        return thumbprint;
    }

    /** RFC 8705 §2.2 (self-signed method): the certificate is pinned by thumbprint. */
    public String verifyPinned(AgentDirectory.Entry entry, X509Certificate cert) {
        String thumbprint = ClientCertificates.thumbprint(cert);
        AgentCredential cred = credential(entry, thumbprint, AgentCredential.Kind.PINNED_CERT);
        if (cred == null) {
            throw invalid("client certificate is not pinned for this agent");
        }
        checkValidity(cert);
        if (!cred.usableAt(System.currentTimeMillis())) {
            throw invalid("pinned certificate is revoked or no longer valid");
        }
        return thumbprint;
    }

    private static AgentCredential credential(AgentDirectory.Entry entry, String thumbprint, AgentCredential.Kind kind) {
        for (AgentCredential c : entry.credentials()) {
            if (c.kind() == kind && thumbprint.equals(c.thumbprint())) {
                return c;
            }
        }
        return null;
    }

    private boolean chainsTo(String tenantId, String thumbprint, X509Certificate cert, X509Certificate caCert) {
        String key = tenantId + "/" + thumbprint;
        Boolean known = chainsToCa.get(key);
        if (known != null) {
            return known;
        }
        boolean ok = cert.getIssuerX500Principal().equals(caCert.getSubjectX500Principal()) && signedBy(cert, caCert);
        if (chainsToCa.size() >= MAX_CHAIN_CACHE) {
            chainsToCa.clear();
        }
        chainsToCa.put(key, ok);
        return ok;
    }

    private static boolean signedBy(X509Certificate cert, X509Certificate caCert) {
        try {
            if (CryptoProvider.get() != null) {
                try {
                    cert.verify(caCert.getPublicKey(), CryptoProvider.get());
                    return true;
                } catch (java.security.NoSuchAlgorithmException e) {
                    // provider lacks the algorithm: fall back to the JDK
                }
            }
            cert.verify(caCert.getPublicKey());
            return true;
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    private static void checkValidity(X509Certificate cert) {
        try {
            cert.checkValidity(new Date());
        } catch (CertificateExpiredException e) {
            throw invalid("client certificate expired");
        } catch (CertificateNotYetValidException e) {
            throw invalid("client certificate not yet valid");
        }
    }

    static List<String> uriSans(X509Certificate cert) {
        List<String> out = new ArrayList<>();
        try {
            Collection<List<?>> sans = cert.getSubjectAlternativeNames();
            if (sans != null) {
                for (List<?> san : sans) {
                    if (san.size() >= 2 && Integer.valueOf(6).equals(san.get(0)) && san.get(1) instanceof String s) {
                        out.add(s);
                    }
                }
            }
        } catch (CertificateParsingException e) {
            // none
        }
        return out;
    }

    static OAuthException invalid(String reason) {
        return new OAuthException(OAuth2Error.INVALID_CLIENT, reason);
    }
}
