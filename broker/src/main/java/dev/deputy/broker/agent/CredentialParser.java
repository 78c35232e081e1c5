package dev.deputy.broker.agent;

import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.KeyType;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.RSAKey;

import java.io.ByteArrayInputStream;
import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.text.ParseException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Checks credential material an admin registers and turns it into a stored {@link AgentCredential}: only
 * public keys, only certificates that are currently valid, only {@code https} key URLs (plain {@code http}
 * on loopback when allowed, for development), never a private address.
 */
public final class CredentialParser {
    static final int MAX_PEM = 16 * 1024;
    static final int MAX_KEYS = 20;
    private static final Set<String> PRIVATE_JWK_MEMBERS = Set.of("d", "p", "q", "dp", "dq", "qi", "oth", "k");
    private static final Pattern PEM_CERT = Pattern.compile(
            "-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\\s]+-----END CERTIFICATE-----");

    private CredentialParser() {
    }

    /** What a spec becomes: the kind and the material to store (public only). */
    public record Parsed(AgentCredential.Kind kind, String material, String thumbprint, Long notBefore, Long notAfter,
                         String summary) {
    }

    public static Parsed parse(CredentialSpec spec, Agent.AuthMethod method, boolean allowHttpLoopback, long now) {
        if (spec == null || spec.empty()) {
            throw AgentException.invalid("a credential is required: jwks, jwks_uri or certificate");
        }
        int given = (spec.jwks() != null ? 1 : 0) + (spec.jwksUri() != null ? 1 : 0) + (spec.certificate() != null ? 1 : 0);
        if (given != 1) {
            throw AgentException.invalid("give exactly one of jwks, jwks_uri or certificate");
        }
        switch (method) {
            case TLS_CLIENT_AUTH -> throw AgentException.invalid("tls_client_auth agents use certificates issued by the "
                    + "tenant's agent CA (POST /admin/t/{tenant}/agents/{id}/certificates, or 'deputy agent cert')");
            case PRIVATE_KEY_JWT -> {
                if (spec.certificate() != null) {
                    throw AgentException.invalid("private_key_jwt agents register a jwks or a jwks_uri, not a certificate");
                }
            }
            case SELF_SIGNED_TLS_CLIENT_AUTH -> {
                if (spec.certificate() == null) {
                    throw AgentException.invalid("self_signed_tls_client_auth agents register a certificate (PEM)");
                }
            }
        }
        if (spec.jwks() != null) {
            return jwks(spec.jwks());
        }
        if (spec.jwksUri() != null) {
            return jwksUri(spec.jwksUri(), allowHttpLoopback);
        }
        return certificate(spec.certificate(), now);
    }

    static Parsed jwks(Map<String, Object> json) {
        Object keys = json.get("keys");
        if (!(keys instanceof List<?> list) || list.isEmpty()) {
            throw AgentException.invalid("jwks must be a JWK Set: {\"keys\": [ ... ]} with at least one key");
        }
        if (list.size() > MAX_KEYS) {
            throw AgentException.invalid("jwks holds more than " + MAX_KEYS + " keys");
        }
        for (Object k : list) {
            if (!(k instanceof Map<?, ?> m)) {
                throw AgentException.invalid("every entry of jwks.keys must be a JSON object");
            }
            for (Object member : m.keySet()) {
                // RFC 7517 §9.2 / RFC 7518 §6: these members are private (or symmetric) key material
                if (PRIVATE_JWK_MEMBERS.contains(String.valueOf(member))) {
                    throw AgentException.invalid("jwks must hold public keys only: a key has the private member '"
                            + member + "'");
                }
            }
        }
        JWKSet set;
        try {
            set = JWKSet.parse(json);
        } catch (ParseException | RuntimeException e) {
            throw AgentException.invalid("jwks is not a valid JWK Set: " + safe(e.getMessage()));
        }
        List<String> described = new ArrayList<>();
        for (JWK k : set.getKeys()) {
            if (k.isPrivate() || k.getKeyType() == KeyType.OCT) {
                throw AgentException.invalid("jwks must hold public asymmetric keys only");
            }
            if (k.getKeyUse() != null && !KeyUse.SIGNATURE.equals(k.getKeyUse())) {
                throw AgentException.invalid("jwks key " + (k.getKeyID() == null ? "" : "'" + k.getKeyID() + "' ")
                        + "has use '" + k.getKeyUse().identifier() + "'; client assertions need 'sig'");
            }
            if (k instanceof RSAKey rsa && rsa.size() < 2048) {
                throw AgentException.invalid("RSA keys must have at least 2048 bits");
            }
            described.add((k.getKeyID() == null ? "(no kid)" : k.getKeyID()) + " " + k.getKeyType().getValue()
                    + (k.getAlgorithm() != null ? " " + k.getAlgorithm().getName() : ""));
        }
        return new Parsed(AgentCredential.Kind.JWKS, set.toString(true), null, null, null,
                "jwks: " + String.join(", ", described));
    }

    static Parsed jwksUri(String value, boolean allowHttpLoopback) {
        URI uri;
        try {
            uri = new URI(value.trim());
        } catch (URISyntaxException e) {
            throw AgentException.invalid("jwks_uri is not a URI");
        }
        if (value.length() > 2048 || uri.getHost() == null || uri.getRawUserInfo() != null || uri.getRawFragment() != null) {
            throw AgentException.invalid("jwks_uri must be an absolute URL with a host, no user info and no fragment");
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        boolean loopback = isLoopback(uri.getHost());
        if (loopback) {
            if (!allowHttpLoopback) {
                throw AgentException.invalid("jwks_uri must not point to a loopback address "
                        + "(allowed only with deputy.agents.allow-http-loopback-jwks-uri=true)");
            }
            if (!scheme.equals("https") && !scheme.equals("http")) {
                throw AgentException.invalid("jwks_uri must use https");
            }
        } else {
            if (!scheme.equals("https")) {
                throw AgentException.invalid("jwks_uri must use https");
            }
            // SSRF guard at registration; the fetcher checks resolved addresses again
            if (isPrivateLiteral(uri.getHost())) {
                throw AgentException.invalid("jwks_uri must not point to a private or link-local address");
            }
        }
        return new Parsed(AgentCredential.Kind.JWKS_URI, uri.toString(), null, null, null, "jwks_uri: " + uri);
    }

    static Parsed certificate(String pem, long now) {
        if (pem.length() > MAX_PEM) {
            throw AgentException.invalid("certificate is too large");
        }
        if (pem.contains("PRIVATE KEY")) {
            throw AgentException.invalid("certificate must not contain a private key: send the certificate only");
        }
        var m = PEM_CERT.matcher(pem);
        if (!m.find()) {
            throw AgentException.invalid("certificate must be one PEM block (-----BEGIN CERTIFICATE-----)");
        }
        String block = m.group();
        if (m.find()) {
            throw AgentException.invalid("certificate must be exactly one PEM certificate, not a chain");
        }
        X509Certificate cert;
        try {
            cert = (X509Certificate) CertificateFactory.getInstance("X.509")
                    .generateCertificate(new ByteArrayInputStream(block.getBytes(StandardCharsets.US_ASCII)));
        } catch (CertificateException | RuntimeException e) {
            throw AgentException.invalid("certificate cannot be parsed as X.509");
        }
        long nb = cert.getNotBefore().getTime();
        long na = cert.getNotAfter().getTime();
        if (na <= now) {
            throw AgentException.invalid("certificate has expired");
        }
        String thumb;
        try {
            thumb = thumbprint(cert.getEncoded());
        } catch (CertificateException e) {
            throw AgentException.invalid("certificate cannot be encoded");
        }
        String normalized = "-----BEGIN CERTIFICATE-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(encoded(cert))
                + "\n-----END CERTIFICATE-----\n";
        return new Parsed(AgentCredential.Kind.PINNED_CERT, normalized, thumb, nb, na,
                "certificate x5t#S256=" + thumb + " subject=" + cert.getSubjectX500Principal().getName());
    }

    private static byte[] encoded(X509Certificate c) {
        try {
            return c.getEncoded();
        } catch (CertificateException e) {
            throw AgentException.invalid("certificate cannot be encoded");
        }
    }

    /** RFC 8705 §3.1: base64url (no padding) SHA-256 of the DER certificate. */
    public static String thumbprint(byte[] der) {
        try {
            return Base64.getUrlEncoder().withoutPadding().encodeToString(MessageDigest.getInstance("SHA-256").digest(der));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static boolean isLoopback(String host) {
        String h = host.toLowerCase(Locale.ROOT);
        if (h.equals("localhost") || h.endsWith(".localhost")) {
            return true;
        }
        InetAddress a = literal(h);
        return a != null && a.isLoopbackAddress();
    }

    static boolean isPrivateLiteral(String host) {
        InetAddress a = literal(host);
        if (a == null) {
            return false;
        }
        byte[] b = a.getAddress();
        boolean cgnat = b.length == 4 && (b[0] & 0xff) == 100 && (b[1] & 0xc0) == 64;
        boolean ula = b.length == 16 && (b[0] & 0xfe) == 0xfc;
        return a.isAnyLocalAddress() || a.isLoopbackAddress() || a.isLinkLocalAddress() || a.isSiteLocalAddress()
                || a.isMulticastAddress() || cgnat || ula;
    }

    /** The address of an IP literal host (never a DNS lookup), or null for a name. */
    private static InetAddress literal(String host) {
        String h = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
        boolean v4 = h.matches("[0-9.]+");
        boolean v6 = h.contains(":") && h.matches("[0-9a-fA-F:.%]+");
        if (!v4 && !v6) {
            return null;
        }
        try {
            return InetAddress.getByName(h);
        } catch (UnknownHostException e) {
            throw AgentException.invalid("jwks_uri host is not a valid address");
        }
    }

    private static String safe(String s) {
        if (s == null) {
            return "unparseable";
        }
        return s.length() > 160 ? s.substring(0, 160) : s;
    }
}
