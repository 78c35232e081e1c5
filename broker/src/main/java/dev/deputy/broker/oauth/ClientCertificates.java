package dev.deputy.broker.oauth;

import dev.deputy.broker.config.BrokerFile;
import dev.deputy.broker.tenant.Tenants;
import jakarta.inject.Singleton;

import java.io.ByteArrayInputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Where the client certificate of a request comes from (RFC 8705 §2): the TLS handshake on the broker's HTTPS
 * listener, or a header set by a TLS-terminating proxy — only when {@code mtls.proxy_header} is configured and the
 * request comes from one of {@code mtls.trusted_proxies}. The header is ignored otherwise (anyone can send it).
 *
 * <p>A proxy forwards the same certificate on every request of a client: the parsed certificate is remembered by
 * the header's exact value (at most {@link #MAX_PARSED} values; a failed parse is not remembered), so a keep-alive
 * client costs one map lookup instead of a URL-decode, a Base64 decode and a DER parse per request. Only the parse
 * is remembered — what the certificate proves (pinning, chain, validity, revocation) is checked on every request.
 */
@Singleton
public class ClientCertificates {
    /** Parsed header values remembered (a simple bound: past it the map starts over; a parse is cheap to redo). */
    static final int MAX_PARSED = 1024;
    private static final Map<String, X509Certificate> PARSED = new ConcurrentHashMap<>();
    private final String proxyHeader;
    private final Set<String> trustedProxies;

    public ClientCertificates(Tenants tenants) {
        BrokerFile.Mtls mtls = tenants.tree().broker().mtls();
        this.proxyHeader = mtls.proxyHeader();
        this.trustedProxies = Set.copyOf(mtls.trustedProxies());
    }

    /**
     * @param tls         the peer certificate of the TLS session, if any
     * @param header      reads a request header
     * @param sourceIp    the direct peer's address
     */
    public Optional<X509Certificate> resolve(Optional<Certificate> tls, java.util.function.Function<String, String> header,
                                             String sourceIp) {
        if (tls.isPresent() && tls.get() instanceof X509Certificate x) {
            return Optional.of(x);
        }
        if (proxyHeader == null || sourceIp == null || !trustedProxies.contains(sourceIp)) {
            return Optional.empty();
        }
        String value = header.apply(proxyHeader);
        if (value == null || value.isBlank() || value.length() > 16_384) {
            return Optional.empty();
        }
        return parse(value.trim());
    }

    /** The certificate of a forwarded header value ({@code value} trimmed), parsed once per distinct value. */
    public static Optional<X509Certificate> parse(String value) {
        X509Certificate known = PARSED.get(value);
        if (known != null) {
            return Optional.of(known);
        }
        Optional<X509Certificate> fresh = parseNow(value);
        fresh.ifPresent(c -> {
            if (PARSED.size() >= MAX_PARSED) {
                PARSED.clear();
            }
            PARSED.put(value, c);
        });
        return fresh;
    }

    /** Number of remembered header values (tests). */
    static int parsedCount() {
        return PARSED.size();
    }

    static Optional<X509Certificate> parseNow(String value) {
        try {
            byte[] der;
            String v = value.contains("%") ? URLDecoder.decode(value, StandardCharsets.UTF_8) : value;
            if (v.contains("-----BEGIN CERTIFICATE-----")) {
                String b64 = v.replace("-----BEGIN CERTIFICATE-----", "").replace("-----END CERTIFICATE-----", "")
                        .replaceAll("\\s", "");
                der = Base64.getDecoder().decode(b64);
            } else {
                der = Base64.getDecoder().decode(v.replaceAll("\\s", ""));
            }
            Certificate c = CertificateFactory.getInstance("X.509").generateCertificate(new ByteArrayInputStream(der));
            return c instanceof X509Certificate x ? Optional.of(x) : Optional.empty();
        } catch (CertificateException | IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    /** RFC 8705 §3.1: {@code x5t#S256} = base64url(SHA-256(DER certificate)), no padding. */
    public static String thumbprint(X509Certificate cert) {
        return dev.deputy.broker.support.Thumbprints.x5tS256(cert);
    }
}
