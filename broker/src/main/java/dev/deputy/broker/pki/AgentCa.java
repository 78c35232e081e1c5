package dev.deputy.broker.pki;

import dev.deputy.broker.agent.Agent;
import dev.deputy.broker.agent.AgentChanges;
import dev.deputy.broker.agent.AgentCredential;
import dev.deputy.broker.agent.AgentStore;
import dev.deputy.broker.config.BrokerFile;
import dev.deputy.broker.config.PublicUrl;
import dev.deputy.broker.keys.SecretBox;
import dev.deputy.broker.tenant.Tenants;
import jakarta.inject.Singleton;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.edec.EdECObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.sec.SECObjectIdentifiers;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.CRLNumber;
import org.bouncycastle.asn1.x509.CRLReason;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;
import org.bouncycastle.cert.X509CRLHolder;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.X509v2CRLBuilder;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.PKCSException;
import org.bouncycastle.util.io.pem.PemObject;
import org.bouncycastle.util.io.pem.PemReader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.StringReader;
import java.math.BigInteger;
import java.net.URI;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The tenant's agent CA: created on first use (EC P-256, private key sealed at rest), it issues short-lived
 * agent client certificates from CSRs with the SPIFFE X.509-SVID URI SAN
 * {@code spiffe://<trust domain>/t/<tenant>/agent/<id>}, records each as an {@link AgentCredential} and publishes a
 * CRL of the revoked ones.
 */
@Singleton
public class AgentCa {
    private static final Logger LOG = LoggerFactory.getLogger(AgentCa.class);
    static final BouncyCastleProvider BC = new BouncyCastleProvider();
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final Duration CA_LIFETIME = Duration.ofDays(3650);
    private static final Duration BACKDATE = Duration.ofMinutes(1);
    private static final Duration CRL_VALIDITY = Duration.ofHours(1);
    private static final Duration CRL_REFRESH = Duration.ofMinutes(30);

    /** A tenant's CA in memory. */
    public record Ca(X509Certificate certificate, PrivateKey key, String pem) {
        @Override
        public String toString() {
            return "Ca[" + certificate.getSubjectX500Principal() + "]";
        }
    }

    /** An issued certificate. @param thumbprint {@code x5t#S256}; @param serial lower-case hex */
    public record Issued(String certificatePem, String caPem, String serial, Instant notAfter, String thumbprint,
                         String credentialId) {
    }

    /** @param staleAt when a listed fact changes by itself (a rotation overlap ends): regenerate then */
    private record Crl(byte[] der, long generatedAt, long staleAt) {
    }

    private final AgentCaStore store;
    private final AgentStore agents;
    private final SecretBox box;
    private final Tenants tenants;
    private final PublicUrl publicUrl;
    private final Clock clock;
    private final Map<String, Ca> cas = new ConcurrentHashMap<>();
    private final Map<String, Crl> crls = new ConcurrentHashMap<>();

    public AgentCa(AgentCaStore store, AgentStore agents, AgentChanges changes, SecretBox box, Tenants tenants,
                   PublicUrl publicUrl) {
        this.store = store;
        this.agents = agents;
        this.box = box;
        this.tenants = tenants;
        this.publicUrl = publicUrl;
        this.clock = Clock.systemUTC();
        changes.listen((tenantId, agentId) -> crls.remove(tenantId));
    }

    /** The SPIFFE trust domain: {@code trust_domain} in broker.yml, else the public URL's host. */
    public String trustDomain() {
        String td = tenants.tree().broker().trustDomain();
        return td != null ? td : URI.create(publicUrl.base()).getHost().toLowerCase();
    }

    /** SPIFFE X.509-SVID URI SAN of an agent. */
    public String spiffeId(String tenantId, String agentId) {
        return "spiffe://" + trustDomain() + "/t/" + tenantId + "/agent/" + agentId;
    }

    public Ca ca(String tenantId) {
        Ca ca = cas.get(tenantId);
        if (ca != null) {
            return ca;
        }
        synchronized (this) {
            ca = cas.get(tenantId);
            if (ca == null) {
                AgentCaStore.StoredCa stored = store.find(tenantId).orElseGet(() -> {
                    store.insertIfAbsent(create(tenantId));
                    // absent after the insert: the stored CA row fails its master-key MAC (reported by the store); its
                    // certificate is not trusted and no certificate is issued until an operator looks (503, not 500)
                    return store.find(tenantId).orElseThrow(() -> new dev.deputy.broker.health.ServiceUnavailableException(
                            "agent CA", new IllegalStateException("tenant " + tenantId + ": the agent CA row fails its integrity check")));
                });
                ca = open(stored);
                cas.put(tenantId, ca);
            }
            return ca;
        }
    }

    private AgentCaStore.StoredCa create(String tenantId) {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
            g.initialize(new ECGenParameterSpec("secp256r1"));
            KeyPair kp = g.generateKeyPair();
            Instant now = clock.instant();
            X500Name name = new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.O, "Deputy")
                    .addRDN(BCStyle.CN, "Deputy agent CA " + tenantId).build();
            JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
            X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(name, serial(), Date.from(now.minus(BACKDATE)),
                    Date.from(now.plus(CA_LIFETIME)), name, kp.getPublic())
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(0))
                    .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign))
                    .addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(kp.getPublic()));
            X509Certificate cert = convert(b.build(signer(kp.getPrivate())));
            LOG.info("tenant {}: created agent CA", tenantId);
            return new AgentCaStore.StoredCa(tenantId, Pem.write(cert),
                    box.seal(kp.getPrivate().getEncoded(), aad(tenantId)), now.toEpochMilli());
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("cannot create the agent CA", e);
        }
    }

    private Ca open(AgentCaStore.StoredCa stored) {
        try {
            X509Certificate cert = Pem.certificate(stored.certificatePem());
            byte[] pkcs8 = box.open(stored.privateKeySealed(), aad(stored.tenantId()));
            PrivateKey key;
            try {
                key = KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(pkcs8));
            } catch (java.security.spec.InvalidKeySpecException nativeRefused) {
                // a key written by another crypto provider: the JDK's own reads every valid PKCS#8
                key = KeyFactory.getInstance("EC", "SunEC").generatePrivate(new PKCS8EncodedKeySpec(pkcs8));
            }
            return new Ca(cert, key, stored.certificatePem());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("tenant " + stored.tenantId() + ": agent CA key cannot be used", e);
        }
    }

    private static String aad(String tenantId) {
        return "agent-ca:" + tenantId;
    }

    /**
     * Issues a certificate for the agent from a PEM CSR: the CSR's signature proves possession of the key; the key
     * must be EC P-256/P-384, RSA ≥ 2048 or Ed25519. The certificate is recorded as a {@code CA_CERT} credential.
     */
    public Issued issue(String tenantId, String agentId, String csrPem, Duration ttl) {
        BrokerFile.AgentCa cfg = tenants.tree().broker().agentCa();
        Duration lifetime = ttl == null ? cfg.certificateTtl() : ttl;
        if (lifetime.isNegative() || lifetime.isZero() || lifetime.compareTo(cfg.maxCertificateTtl()) > 0) {
            throw new CsrException("ttl must be positive and at most " + cfg.maxCertificateTtl());
        }
        Agent agent = agents.findAgent(tenantId, agentId).orElseThrow(() -> new CsrException("unknown agent"));
        if (agent.status() == Agent.Status.REVOKED) {
            throw new CsrException("the agent is revoked");
        }
        PKCS10CertificationRequest csr = parseCsr(csrPem);
        SubjectPublicKeyInfo spki = csr.getSubjectPublicKeyInfo();
        boolean rsa = checkKey(spki);
        checkRequestedNames(csr, spiffeId(tenantId, agentId));
        try {
            // proof of possession: the CSR is signed by the key it certifies (RFC 2986 §4.2)
            if (!csr.isSignatureValid(new JcaContentVerifierProviderBuilder().setProvider(BC).build(spki))) {
                throw new CsrException("the CSR signature does not verify");
            }
        } catch (OperatorCreationException | PKCSException e) {
            throw new CsrException("the CSR signature cannot be checked");
        }
        Ca ca = ca(tenantId);
        Instant now = clock.instant();
        Instant notAfter = now.plus(lifetime);
        if (notAfter.isAfter(ca.certificate().getNotAfter().toInstant())) {
            notAfter = ca.certificate().getNotAfter().toInstant();
        }
        BigInteger serial = serial();
        try {
            JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
            X500Name subject = new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.O, "Deputy agents")
                    .addRDN(BCStyle.OU, tenantId).addRDN(BCStyle.CN, agentId).build();
            X509v3CertificateBuilder b = new X509v3CertificateBuilder(
                    X500Name.getInstance(ca.certificate().getSubjectX500Principal().getEncoded()), serial,
                    Date.from(now.minus(BACKDATE)), Date.from(notAfter), subject, spki)
                    // SPIFFE X.509-SVID §4: leaf: CA false, digitalSignature, critical key usage; one URI SAN
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
                    .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature
                            | (rsa ? KeyUsage.keyEncipherment : 0)))
                    .addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_clientAuth))
                    .addExtension(Extension.subjectAlternativeName, false, new GeneralNames(
                            new GeneralName(GeneralName.uniformResourceIdentifier, spiffeId(tenantId, agentId))))
                    .addExtension(Extension.authorityKeyIdentifier, false,
                            ext.createAuthorityKeyIdentifier(ca.certificate()))
                    .addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(spki));
            X509Certificate cert = convert(b.build(signer(ca.key())));
            String thumbprint = dev.deputy.broker.support.Thumbprints.x5tS256(cert);
            String serialHex = serial.toString(16);
            String credentialId = "crt_" + serialHex;
            agents.saveCredential(new AgentCredential(tenantId, credentialId, agentId, AgentCredential.Kind.CA_CERT,
                    thumbprint, serialHex, Pem.write(cert), cert.getNotBefore().getTime(), cert.getNotAfter().getTime(),
                    null, AgentCredential.Status.ACTIVE, now.toEpochMilli()));
            return new Issued(Pem.write(cert), ca.pem(), serialHex, cert.getNotAfter().toInstant(), thumbprint,
                    credentialId);
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("certificate issuance failed", e);
        }
    }

    static PKCS10CertificationRequest parseCsr(String pem) {
        if (pem == null || pem.length() > 32_768) {
            throw new CsrException("csr must be a PEM certificate signing request");
        }
        try (PemReader r = new PemReader(new StringReader(pem))) {
            PemObject o = r.readPemObject();
            if (o == null || !(o.getType().equals("CERTIFICATE REQUEST") || o.getType().equals("NEW CERTIFICATE REQUEST"))) {
                throw new CsrException("csr must be a PEM certificate signing request");
            }
            return new PKCS10CertificationRequest(o.getContent());
        } catch (IOException | RuntimeException e) {
            if (e instanceof CsrException ce) {
                throw ce;
            }
            throw new CsrException("csr is not a valid PKCS#10 request");
        }
    }

    /**
     * The certificate names the agent by its SPIFFE id only (the CSR's subject and names are not copied), so a CSR
     * that asks for another identity — a subject alternative name other than this agent's SPIFFE id, or a
     * {@code spiffe://} common name of someone else — is refused rather than quietly issued under another name.
     * A free-text common name (the CLI sends the agent id) is accepted and ignored.
     */
    static void checkRequestedNames(PKCS10CertificationRequest csr, String spiffeId) {
        try {
            for (org.bouncycastle.asn1.pkcs.Attribute a : csr.getAttributes(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest)) {
                for (org.bouncycastle.asn1.ASN1Encodable v : a.getAttributeValues()) {
                    GeneralNames names = GeneralNames.fromExtensions(org.bouncycastle.asn1.x509.Extensions.getInstance(v),
                            Extension.subjectAlternativeName);
                    for (GeneralName n : names == null ? new GeneralName[0] : names.getNames()) {
                        String value = n.getName().toString();
                        if (n.getTagNo() != GeneralName.uniformResourceIdentifier || !spiffeId.equals(value)) {
                            throw new CsrException("the CSR asks for " + describe(n.getTagNo(), value)
                                    + ", but a certificate for this agent names only " + spiffeId);
                        }
                    }
                }
            }
            for (org.bouncycastle.asn1.x500.RDN rdn : csr.getSubject().getRDNs(BCStyle.CN)) {
                String cn = org.bouncycastle.asn1.x500.style.IETFUtils.valueToString(rdn.getFirst().getValue());
                if (cn.regionMatches(true, 0, "spiffe://", 0, 9) && !cn.equals(spiffeId)) {
                    throw new CsrException("the CSR's subject names " + clip(cn) + ", but a certificate for this agent "
                            + "names only " + spiffeId);
                }
            }
        } catch (CsrException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new CsrException("csr is not a valid PKCS#10 request");
        }
    }

    private static String describe(int tag, String value) {
        return switch (tag) {
            case GeneralName.uniformResourceIdentifier -> "the URI " + clip(value);
            case GeneralName.dNSName -> "the DNS name " + clip(value);
            case GeneralName.rfc822Name -> "the e-mail address " + clip(value);
            case GeneralName.iPAddress -> "an IP address";
            default -> "another subject alternative name";
        };
    }

    private static String clip(String s) {
        return s.length() > 200 ? s.substring(0, 200) + "…" : s;
    }

    /** Key policy: EC P-256/P-384, RSA ≥ 2048 bits, Ed25519. Returns whether it is RSA. */
    static boolean checkKey(SubjectPublicKeyInfo spki) {
        ASN1ObjectIdentifier alg = spki.getAlgorithm().getAlgorithm();
        if (alg.equals(X9ObjectIdentifiers.id_ecPublicKey)) {
            Object params = spki.getAlgorithm().getParameters();
            if (SECObjectIdentifiers.secp256r1.equals(params) || SECObjectIdentifiers.secp384r1.equals(params)) {
                return false;
            }
            throw new CsrException("EC keys must be on P-256 or P-384");
        }
        if (alg.equals(PKCSObjectIdentifiers.rsaEncryption)) {
            try {
                RSAPublicKey k = (RSAPublicKey) KeyFactory.getInstance("RSA")
                        .generatePublic(new java.security.spec.X509EncodedKeySpec(spki.getEncoded()));
                int bits = k.getModulus().bitLength();
                if (bits < 2048 || bits > 8192) {
                    throw new CsrException("RSA keys must have 2048 to 8192 bits");
                }
                return true;
            } catch (GeneralSecurityException | IOException e) {
                throw new CsrException("unreadable RSA key");
            }
        }
        if (alg.equals(EdECObjectIdentifiers.id_Ed25519)) {
            return false;
        }
        throw new CsrException("key type not accepted (use EC P-256/P-384, RSA >= 2048 or Ed25519)");
    }

    /** The CA certificate (PEM) that verifies agent certificates. */
    public String caPem(String tenantId) {
        return ca(tenantId).pem();
    }

    /**
     * The CRL (DER): serials of CA-issued certificates that are revoked (their credential, or their agent), or rotated
     * out (the rotation overlap, {@code valid_until}, has ended), and not yet expired. Regenerated after any agent
     * change in the tenant, when a rotation overlap ends, and every {@link #CRL_REFRESH}.
     */
    public byte[] crl(String tenantId) {
        long now = clock.millis();
        Crl c = crls.get(tenantId);
        if (c != null && now - c.generatedAt() < CRL_REFRESH.toMillis() && now < c.staleAt()) {
            return c.der();
        }
        long[] staleAt = {Long.MAX_VALUE};
        Crl fresh = new Crl(buildCrl(tenantId, now, staleAt), now, staleAt[0]);
        crls.put(tenantId, fresh);
        return fresh.der();
    }

    private byte[] buildCrl(String tenantId, long now, long[] staleAt) {
        Ca ca = ca(tenantId);
        record Revoked(BigInteger serial, long at, int reason) {
        }
        List<Revoked> revoked = new ArrayList<>();
        for (Agent a : agents.listAgents(tenantId)) {
            Collection<AgentCredential> creds = agents.credentials(tenantId, a.id());
            for (AgentCredential cr : creds) {
                if (cr.kind() != AgentCredential.Kind.CA_CERT || cr.serial() == null
                        || (cr.notAfter() != null && cr.notAfter() <= now)) {
                    continue;
                }
                boolean agentRevoked = a.status() == Agent.Status.REVOKED;
                if (cr.status() == AgentCredential.Status.REVOKED || agentRevoked) {
                    long at = agentRevoked && a.statusChangedAt() != null ? a.statusChangedAt() : cr.createdAt();
                    revoked.add(new Revoked(new BigInteger(cr.serial(), 16), at, CRLReason.unspecified));
                } else if (cr.validUntil() != null && cr.validUntil() <= now) {
                    // rotated out (issue 14 finding 15): the overlap has ended, the certificate is still within its
                    // validity; RFC 5280 §5.3.1 superseded, so relying parties that check the CRL refuse it too
                    revoked.add(new Revoked(new BigInteger(cr.serial(), 16), cr.validUntil(), CRLReason.superseded));
                } else if (cr.validUntil() != null) {
                    staleAt[0] = Math.min(staleAt[0], cr.validUntil());
                }
            }
        }
        try {
            X509v2CRLBuilder b = new X509v2CRLBuilder(
                    X500Name.getInstance(ca.certificate().getSubjectX500Principal().getEncoded()), new Date(now));
            b.setNextUpdate(new Date(now + CRL_VALIDITY.toMillis()));
            for (Revoked r : revoked) {
                b.addCRLEntry(r.serial(), new Date(r.at()), r.reason());
            }
            b.addExtension(Extension.cRLNumber, false, new CRLNumber(BigInteger.valueOf(now)));
            b.addExtension(Extension.authorityKeyIdentifier, false,
                    new JcaX509ExtensionUtils().createAuthorityKeyIdentifier(ca.certificate()));
            X509CRLHolder crl = b.build(signer(ca.key()));
            return crl.getEncoded();
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("CRL generation failed", e);
        }
    }

    static ContentSigner signer(PrivateKey key) {
        try {
            String alg = key.getAlgorithm().equals("EC") ? "SHA256withECDSA" : "SHA256withRSA";
            return new JcaContentSignerBuilder(alg).setProvider(BC).build(key);
        } catch (OperatorCreationException e) {
            throw new IllegalStateException(e);
        }
    }

    static X509Certificate convert(X509CertificateHolder holder) throws GeneralSecurityException {
        return new JcaX509CertificateConverter().getCertificate(holder);
    }

    static BigInteger serial() {
        byte[] b = new byte[16];
        RANDOM.nextBytes(b);
        b[0] &= 0x7f; // RFC 5280 §4.1.2.2: positive, at most 20 octets
        if (b[0] == 0) {
            b[0] = 1;
        }
        return new BigInteger(b);
    }
}
