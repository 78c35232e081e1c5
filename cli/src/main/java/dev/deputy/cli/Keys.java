package dev.deputy.cli;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.OctetKeyPair;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.util.Base64URL;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.util.Arrays;
import java.util.Base64;

/** Key pairs, CSRs, PEM and JWK Sets for {@code agent cert} and {@code agent keygen}. Private keys go to 0600 files only. */
final class Keys {
    private Keys() {
    }

    /** A key pair for a JWS algorithm: ES256 (P-256), RS256 (RSA 2048), EdDSA (Ed25519). */
    static KeyPair generate(String alg) {
        try {
            return switch (alg) {
                case "ES256" -> {
                    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
                    g.initialize(new ECGenParameterSpec("secp256r1"));
                    yield g.generateKeyPair();
                }
                case "RS256" -> {
                    KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
                    g.initialize(2048);
                    yield g.generateKeyPair();
                }
                case "EdDSA" -> KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
                default -> throw CliException.usage("--alg must be ES256, RS256 or EdDSA, not '" + alg + "'");
            };
        } catch (GeneralSecurityException e) {
            throw CliException.failed("cannot generate a key: " + e.getMessage());
        }
    }

    /** The public JWK (kid = RFC 7638 thumbprint, use sig, alg) of a key pair. */
    static JWK publicJwk(KeyPair kp, String alg) {
        try {
            JWK jwk = switch (alg) {
                case "ES256" -> new ECKey.Builder(Curve.P_256, (ECPublicKey) kp.getPublic())
                        .keyUse(KeyUse.SIGNATURE).algorithm(JWSAlgorithm.ES256).keyIDFromThumbprint().build();
                case "RS256" -> new RSAKey.Builder((RSAPublicKey) kp.getPublic())
                        .keyUse(KeyUse.SIGNATURE).algorithm(JWSAlgorithm.RS256).keyIDFromThumbprint().build();
                default -> {
                    // RFC 8037 §2: x is the raw 32-byte public key, the tail of the X.509 SubjectPublicKeyInfo
                    byte[] spki = kp.getPublic().getEncoded();
                    byte[] raw = Arrays.copyOfRange(spki, spki.length - 32, spki.length);
                    yield new OctetKeyPair.Builder(Curve.Ed25519, Base64URL.encode(raw))
                            .keyUse(KeyUse.SIGNATURE).algorithm(JWSAlgorithm.EdDSA).keyIDFromThumbprint().build();
                }
            };
            return jwk;
        } catch (JOSEException e) {
            throw CliException.failed("cannot build the JWK: " + e.getMessage());
        }
    }

    static String jwks(JWK jwk) {
        return new JWKSet(jwk).toString(true);
    }

    static String csr(String id, KeyPair kp) {
        try {
            String alg = kp.getPublic().getAlgorithm().equals("RSA") ? "SHA256withRSA" : "SHA256withECDSA";
            PKCS10CertificationRequest req = new JcaPKCS10CertificationRequestBuilder(new X500Name("CN=" + id), kp.getPublic())
                    .build(new JcaContentSignerBuilder(alg).build(kp.getPrivate()));
            return pem("CERTIFICATE REQUEST", req.getEncoded());
        } catch (Exception e) {
            throw CliException.failed("cannot build the CSR: " + e.getMessage());
        }
    }

    static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
                + "\n-----END " + type + "-----\n";
    }

    /** Writes a file readable by its owner only (created 0600, never widened). */
    static void writePrivate(Path file, String content) throws IOException {
        Files.deleteIfExists(file);
        try {
            Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        } catch (UnsupportedOperationException e) {
            Files.createFile(file);
        }
        Files.writeString(file, content, StandardOpenOption.TRUNCATE_EXISTING);
    }
}
