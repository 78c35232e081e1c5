package dev.deputy.broker.oauth;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.Ed25519Signer;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.jwk.gen.OctetKeyPairGenerator;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import java.io.StringWriter;
import java.math.BigInteger;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/** Keys, assertions, CSRs, certificates and TLS contexts for tests. */
public final class TestKeys {
    private TestKeys() {
    }

    public static JWK ec() {
        try {
            return new ECKeyGenerator(Curve.P_256).keyID("ec-" + UUID.randomUUID()).generate();
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
    }

    public static JWK rsa() {
        try {
            return new RSAKeyGenerator(2048).keyID("rsa-" + UUID.randomUUID()).generate();
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
    }

    public static JWK ed() {
        try {
            return new OctetKeyPairGenerator(Curve.Ed25519).keyID("ed-" + UUID.randomUUID()).generate();
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
    }

    public static String publicJwks(JWK... keys) {
        return new JWKSet(List.of(keys)).toPublicJWKSet().toString();
    }

    public static JWTClaimsSet.Builder claims(String clientId, Object aud) {
        Instant now = Instant.now();
        JWTClaimsSet.Builder b = new JWTClaimsSet.Builder().issuer(clientId).subject(clientId)
                .expirationTime(Date.from(now.plusSeconds(60))).issueTime(Date.from(now))
                .jwtID(UUID.randomUUID().toString());
        if (aud instanceof List<?> l) {
            b.audience(l.stream().map(Object::toString).toList());
        } else {
            b.audience((String) aud);
        }
        return b;
    }

    public static String sign(JWK key, JWTClaimsSet claims) {
        try {
            JWSSigner signer;
            JWSAlgorithm alg;
            switch (key.getKeyType().getValue()) {
                case "EC" -> {
                    signer = new ECDSASigner(key.toECKey());
                    alg = JWSAlgorithm.ES256;
                }
                case "RSA" -> {
                    signer = new RSASSASigner(key.toRSAKey());
                    alg = JWSAlgorithm.RS256;
                }
                default -> {
                    signer = new Ed25519Signer(key.toOctetKeyPair());
                    alg = JWSAlgorithm.EdDSA;
                }
            }
            SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(alg).keyID(key.getKeyID()).type(JOSEObjectType.JWT).build(),
                    claims);
            jwt.sign(signer);
            return jwt.serialize();
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
    }

    public static Map<String, String> assertionForm(String assertion) {
        return new java.util.LinkedHashMap<>(Map.of(
                "grant_type", "client_credentials",
                "client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                "client_assertion", assertion));
    }

    // ---- X.509

    public static KeyPair ecKeyPair(String curve) {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
            g.initialize(new ECGenParameterSpec(curve));
            return g.generateKeyPair();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    public static KeyPair keyPair(String alg, int size) {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance(alg);
            if (size > 0) {
                g.initialize(size);
            }
            return g.generateKeyPair();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    public static String csr(KeyPair kp, String cn) {
        try {
            String sigAlg = switch (kp.getPrivate().getAlgorithm()) {
                case "EC" -> "SHA256withECDSA";
                case "RSA" -> "SHA256withRSA";
                default -> "Ed25519";
            };
            PKCS10CertificationRequest csr = new JcaPKCS10CertificationRequestBuilder(new X500Name("CN=" + cn),
                    kp.getPublic()).build(new JcaContentSignerBuilder(sigAlg).build(kp.getPrivate()));
            return pem(csr);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** A CSR (EC P-256) whose extensionRequest asks for these subject alternative names (e.g. another agent's URI). */
    public static String csrAsking(KeyPair kp, String cn, GeneralName... names) {
        try {
            org.bouncycastle.asn1.x509.ExtensionsGenerator g = new org.bouncycastle.asn1.x509.ExtensionsGenerator();
            g.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names));
            PKCS10CertificationRequest csr = new JcaPKCS10CertificationRequestBuilder(new X500Name("CN=" + cn), kp.getPublic())
                    .addAttribute(org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers.pkcs_9_at_extensionRequest, g.generate())
                    .build(new JcaContentSignerBuilder("SHA256withECDSA").build(kp.getPrivate()));
            return pem(csr);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    public static String pem(Object o) {
        StringWriter sw = new StringWriter();
        try (JcaPEMWriter w = new JcaPEMWriter(sw)) {
            w.writeObject(o);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        return sw.toString();
    }

    /** A certificate for {@code subjectKey}, signed by {@code issuerKey} (self-signed when they are the same pair). */
    public static X509Certificate certificate(String subject, PublicKey subjectKey, Object issuer, PrivateKey issuerKey,
                                              Instant notBefore, Instant notAfter, String uriSan) {
        try {
            X500Name issuerName = issuer instanceof javax.security.auth.x500.X500Principal p
                    ? X500Name.getInstance(p.getEncoded()) : new X500Name((String) issuer);
            JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(issuerName,
                    new BigInteger(64, new SecureRandom()).add(BigInteger.ONE), Date.from(notBefore), Date.from(notAfter),
                    new X500Name(subject), subjectKey);
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
            if (uriSan != null) {
                b.addExtension(Extension.subjectAlternativeName, false,
                        new GeneralNames(new GeneralName(GeneralName.uniformResourceIdentifier, uriSan)));
            }
            String alg = issuerKey.getAlgorithm().equals("EC") ? "SHA256withECDSA" : "SHA256withRSA";
            return new JcaX509CertificateConverter().getCertificate(b.build(new JcaContentSignerBuilder(alg).build(issuerKey)));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    public static X509Certificate selfSigned(KeyPair kp, String cn) {
        return certificate("CN=" + cn, kp.getPublic(), "CN=" + cn, kp.getPrivate(), Instant.now().minusSeconds(60),
                Instant.now().plus(Duration.ofDays(1)), null);
    }

    /** A client TLS context presenting {@code cert} (with {@code key}) and trusting any server certificate. */
    public static SSLContext clientTls(PrivateKey key, X509Certificate... chain) {
        try {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            if (key != null) {
                ks.setKeyEntry("client", key, new char[0], chain);
            }
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(ks, new char[0]);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(kmf.getKeyManagers(), new TrustManager[]{new TrustAll()}, new SecureRandom());
            return ctx;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static final class TrustAll implements X509TrustManager {
        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) {
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) {
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[0];
        }
    }
}
