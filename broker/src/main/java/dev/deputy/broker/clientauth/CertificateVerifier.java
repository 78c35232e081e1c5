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
 * <p>What depends only on the certificate's bytes and the CA certificate — the signature by the CA and the parsed
 * URI SANs — is remembered after a successful check, keyed by the certificate's SHA-256 thumbprint and the
 * thumbprint of the CA certificate it chained to (a new tenant CA never finds an entry made for the old one), until
 * the certificate's notAfter, bounded by {@link #MAX_CHAIN_CACHE}. Failures are not remembered. Validity, the SAN's
 * agent and the credential's status (revocation: the same state the CRL is built from) are evaluated on every
 * request from current state.
 */
@Singleton
public class CertificateVerifier {
    static final int MAX_CHAIN_CACHE = 50_000;
    private final AgentCa ca;
    private final Map<String, VerifiedChain> chains = new ConcurrentHashMap<>();
    private final Map<String, CaThumbprint> caThumbprints = new ConcurrentHashMap<>();

    /** A certificate that chained to a CA: its URI SANs, and until when the answer may be reused. */
    private record VerifiedChain(List<String> uriSans, long notAfterMs) {
    }

    /** The thumbprint of a tenant's CA certificate, for the CA object it was computed from. */
    private record CaThumbprint(AgentCa.Ca ca, String thumbprint) {
    }

    public CertificateVerifier(AgentCa ca) {
        this.ca = ca;
    }

    /** RFC 8705 §2.1 (PKI method). Returns the thumbprint for {@code cnf.x5t#S256}. */
    public String verifyCaIssued(String tenantId, AgentDirectory.Entry entry, X509Certificate cert) {
        String thumbprint = ClientCertificates.thumbprint(cert);
        long now = System.currentTimeMillis();
        VerifiedChain chain = chainTo(tenantId, thumbprint, cert, ca.ca(tenantId), now);
        if (chain == null) {
            throw invalid("client certificate is not issued by the tenant's agent CA");
        }
        checkValidity(cert, now);
        String expected = ca.spiffeId(tenantId, entry.agent().id());
        List<String> uris = chain.uriSans();
        // SPIFFE X.509-SVID §2: exactly one URI SAN; RFC 8705 §2.1.2: it must be the one registered for the client
        if (uris.size() != 1 || !uris.get(0).equals(expected)) {
            throw invalid("client certificate does not name this agent");
        }
        AgentCredential cred = credential(entry, thumbprint, AgentCredential.Kind.CA_CERT);
        if (cred == null) {
            throw invalid("client certificate is not a registered credential of this agent");
        }
        if (!cred.usableAt(now)) {
            throw invalid("client certificate is revoked or no longer valid");
        }
        return thumbprint;
    }

    /** Number of remembered chain checks (tests). */
    int cachedChains() {
        return chains.size();
    }

    /** RFC 8705 §2.2 (self-signed method): the certificate is pinned by thumbprint. */
    public String verifyPinned(AgentDirectory.Entry entry, X509Certificate cert) {
        String thumbprint = ClientCertificates.thumbprint(cert);
        AgentCredential cred = credential(entry, thumbprint, AgentCredential.Kind.PINNED_CERT);
        if (cred == null) {
            throw invalid("client certificate is not pinned for this agent");
        }
        long now = System.currentTimeMillis();
        checkValidity(cert, now);
        if (!cred.usableAt(now)) {
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

    /** The remembered or fresh chain check; null when the certificate is not signed by this CA. */
    private VerifiedChain chainTo(String tenantId, String thumbprint, X509Certificate cert, AgentCa.Ca tenantCa, long now) {
        String key = tenantId + "/" + thumbprint + "/" + caThumbprint(tenantId, tenantCa);
        VerifiedChain known = chains.get(key);
        if (known != null) {
            if (now < known.notAfterMs()) {
                return known;
            }
            chains.remove(key);
        }
        X509Certificate caCert = tenantCa.certificate();
        if (!cert.getIssuerX500Principal().equals(caCert.getSubjectX500Principal()) || !signedBy(cert, caCert)) {
            return null;
        }
        VerifiedChain fresh = new VerifiedChain(List.copyOf(uriSans(cert)),
                Math.min(cert.getNotAfter().getTime(), caCert.getNotAfter().getTime()));
        if (chains.size() >= MAX_CHAIN_CACHE) {
            chains.values().removeIf(c -> c.notAfterMs() <= now);
            if (chains.size() >= MAX_CHAIN_CACHE) {
                chains.clear(); // a simple bound: a chain check is cheap to redo
            }
        }
        chains.put(key, fresh);
        return fresh;
    }

    private String caThumbprint(String tenantId, AgentCa.Ca tenantCa) {
        CaThumbprint t = caThumbprints.get(tenantId);
        if (t == null || t.ca() != tenantCa) {
            t = new CaThumbprint(tenantCa, ClientCertificates.thumbprint(tenantCa.certificate()));
            caThumbprints.put(tenantId, t);
        }
        return t.thumbprint();
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

    private static void checkValidity(X509Certificate cert, long now) {
        try {
            cert.checkValidity(new Date(now));
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
