package dev.deputy.broker.pki;

import dev.deputy.broker.support.PrivateFiles;
import dev.deputy.broker.config.DeputySettings;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;

/**
 * The HTTPS listener's own certificate: {@code <data dir>/tls/server.crt} and {@code server.key} (PEM). Generated
 * (EC P-256, self-signed, SANs localhost, 127.0.0.1, ::1 and the public URL's host) on first start and kept on
 * restart; an operator may put their own pair there instead. Regenerated only when the generated one expired.
 */
public final class ServerTls {
    private static final Logger LOG = LoggerFactory.getLogger(ServerTls.class);
    private static final Duration LIFETIME = Duration.ofDays(365);

    /** The key and certificate chain the listener presents. */
    public record Material(PrivateKey key, X509Certificate[] chain) {
    }

    private ServerTls() {
    }

    public static Material loadOrCreate(DeputySettings settings) {
        Path dir = settings.dataDir().resolve("tls");
        Path crt = dir.resolve("server.crt");
        Path key = dir.resolve("server.key");
        try {
            if (Files.exists(crt) && Files.exists(key)) {
                X509Certificate cert = Pem.certificate(Files.readString(crt));
                if (cert.getNotAfter().toInstant().isAfter(Instant.now())) {
                    try {
                        return new Material(readKey(Files.readString(key)), new X509Certificate[]{cert});
                    } catch (IOException | GeneralSecurityException unreadable) {
                        LOG.warn("{} cannot be read ({}): generating a new self-signed server certificate", key,
                                unreadable.getMessage());
                    }
                }
                LOG.warn("{} has expired: generating a new self-signed server certificate", crt);
            }
            PrivateFiles.directory(dir);
            String host = settings.publicUrl().map(u -> URI.create(u).getHost()).orElse("localhost");
            // the JDK's provider writes a standard PKCS#8 (curve in the algorithm identifier) that it reads back
            // on the next start; the server key signs one handshake per connection, not per request
            KeyPairGenerator g = KeyPairGenerator.getInstance("EC", "SunEC");
            g.initialize(new ECGenParameterSpec("secp256r1"));
            KeyPair kp = g.generateKeyPair();
            X509Certificate cert = selfSigned(kp, host);
            Path tmpKey = dir.resolve("server.key.tmp");
            Files.deleteIfExists(tmpKey);
            Files.createFile(tmpKey, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.writeString(tmpKey, pkcs8Pem(kp.getPrivate()));
            Files.move(tmpKey, key, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            Files.writeString(crt, Pem.write(cert));
            LOG.info("generated a self-signed server certificate for {} in {}", host, dir);
            return new Material(kp.getPrivate(), new X509Certificate[]{cert});
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalStateException("cannot prepare the HTTPS listener's certificate in " + dir + ": " + e.getMessage(), e);
        }
    }

    private static X509Certificate selfSigned(KeyPair kp, String host) throws GeneralSecurityException, IOException {
        Instant now = Instant.now();
        X500Name name = new X500Name("CN=" + (host.matches("[A-Za-z0-9.-]+") ? host : "localhost") + ",O=Deputy");
        List<GeneralName> sans = new ArrayList<>();
        sans.add(new GeneralName(GeneralName.dNSName, "localhost"));
        sans.add(new GeneralName(GeneralName.iPAddress, "127.0.0.1"));
        sans.add(new GeneralName(GeneralName.iPAddress, "::1"));
        if (!"localhost".equals(host) && host != null) {
            boolean ip = host.matches("[0-9.]+") || host.contains(":");
            sans.add(new GeneralName(ip ? GeneralName.iPAddress : GeneralName.dNSName, host.replace("[", "").replace("]", "")));
        }
        X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(name, AgentCa.serial(),
                Date.from(now.minus(Duration.ofMinutes(1))), Date.from(now.plus(LIFETIME)), name, kp.getPublic())
                .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
                .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature))
                .addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth))
                .addExtension(Extension.subjectAlternativeName, false, new GeneralNames(sans.toArray(GeneralName[]::new)));
        return AgentCa.convert(b.build(AgentCa.signer(kp.getPrivate())));
    }

    /** PKCS#8 as the key encodes itself, PEM-armoured by BouncyCastle. */
    static String pkcs8Pem(PrivateKey key) throws IOException {
        java.io.StringWriter out = new java.io.StringWriter();
        try (org.bouncycastle.util.io.pem.PemWriter w = new org.bouncycastle.util.io.pem.PemWriter(out)) {
            w.writeObject(new org.bouncycastle.util.io.pem.PemObject("PRIVATE KEY", key.getEncoded()));
        }
        return out.toString();
    }

    /** Reads the PKCS#8 key back with the JDK's EC provider, which wrote it. */
    static PrivateKey readKey(String pem) throws IOException, GeneralSecurityException {
        org.bouncycastle.util.io.pem.PemObject o;
        try (org.bouncycastle.util.io.pem.PemReader r = new org.bouncycastle.util.io.pem.PemReader(new java.io.StringReader(pem))) {
            o = r.readPemObject();
        }
        if (o == null || !"PRIVATE KEY".equals(o.getType())) {
            throw new IOException("server.key is not a PKCS#8 private key");
        }
        return java.security.KeyFactory.getInstance("EC", "SunEC")
                .generatePrivate(new java.security.spec.PKCS8EncodedKeySpec(o.getContent()));
    }
}
