package dev.deputy.broker.pki;

import dev.deputy.broker.agent.Agent;
import dev.deputy.broker.agent.AgentCredential;
import dev.deputy.broker.oauth.AgentTestBroker;
import dev.deputy.broker.oauth.TestKeys;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The agent CA: CSR proof of possession, key policy, SPIFFE SAN, TTL bounds, the credential it records. */
class AgentCaTest {
    @TempDir
    static Path dir;
    static AgentTestBroker broker;
    static AgentCa ca;

    @BeforeAll
    static void start() {
        broker = AgentTestBroker.builder(dir).brokerYml("trust_domain: agents.example.org\nagent_ca:\n  certificate_ttl: 2h\n")
                .start();
        broker.agent("a1", Agent.AuthMethod.TLS_CLIENT_AUTH, List.of());
        ca = broker.bean(AgentCa.class);
    }

    @AfterAll
    static void stop() {
        broker.close();
    }

    @Test
    void issuesSpiffeCertificatesForAcceptedKeys() throws Exception {
        for (KeyPair kp : List.of(TestKeys.ecKeyPair("secp256r1"), TestKeys.ecKeyPair("secp384r1"),
                TestKeys.keyPair("RSA", 2048), TestKeys.keyPair("Ed25519", 0))) {
            AgentCa.Issued issued = ca.issue("demo", "a1", TestKeys.csr(kp, "whatever"), null);
            X509Certificate cert = Pem.certificate(issued.certificatePem());
            cert.verify(ca.ca("demo").certificate().getPublicKey());
            assertEquals(List.of("spiffe://agents.example.org/t/demo/agent/a1"),
                    cert.getSubjectAlternativeNames().stream().map(l -> (String) l.get(1)).toList());
            assertEquals(-1, cert.getBasicConstraints());
            assertTrue(cert.getKeyUsage()[0]); // digitalSignature
            long hours = Duration.between(cert.getNotBefore().toInstant(), cert.getNotAfter().toInstant()).toHours();
            assertTrue(hours >= 2 && hours <= 3, "default ttl from broker.yml: " + hours);
            AgentCredential cred = broker.agents().credentialByThumbprint("demo", issued.thumbprint()).orElseThrow();
            assertEquals(AgentCredential.Kind.CA_CERT, cred.kind());
            assertEquals(issued.serial(), cred.serial());
            assertEquals(cert.getSerialNumber().toString(16), issued.serial());
        }
    }

    @Test
    void refusesACsrThatAsksForAnotherIdentity() {
        KeyPair kp = TestKeys.ecKeyPair("secp256r1");
        String own = "spiffe://agents.example.org/t/demo/agent/a1";
        String other = "spiffe://agents.example.org/t/demo/agent/payments.settlement.reconciler";
        int before = broker.agents().credentials("demo", "a1").size();
        CsrException e = assertThrows(CsrException.class, () -> ca.issue("demo", "a1", TestKeys.csrAsking(kp, "a1",
                new org.bouncycastle.asn1.x509.GeneralName(org.bouncycastle.asn1.x509.GeneralName.uniformResourceIdentifier, other)), null));
        assertTrue(e.getMessage().contains(other) && e.getMessage().contains(own), e.getMessage());
        assertThrows(CsrException.class, () -> ca.issue("demo", "a1", TestKeys.csrAsking(kp, "a1",
                new org.bouncycastle.asn1.x509.GeneralName(org.bouncycastle.asn1.x509.GeneralName.dNSName, "bank.example")), null));
        assertThrows(CsrException.class, () -> ca.issue("demo", "a1", TestKeys.csr(kp, "spiffe://agents.example.org/t/other/agent/a1"), null));
        assertEquals(before, broker.agents().credentials("demo", "a1").size(), "nothing issued");
        // asking for its own SPIFFE id (or naming nothing) is fine
        AgentCa.Issued ok = ca.issue("demo", "a1", TestKeys.csrAsking(kp, "a1",
                new org.bouncycastle.asn1.x509.GeneralName(org.bouncycastle.asn1.x509.GeneralName.uniformResourceIdentifier, own)), null);
        assertTrue(ok.certificatePem().startsWith("-----BEGIN CERTIFICATE-----"));
    }

    @Test
    void refusesWeakOrUnknownKeys() {
        assertThrows(CsrException.class, () -> ca.issue("demo", "a1", TestKeys.csr(TestKeys.keyPair("RSA", 1024), "x"), null));
        assertThrows(CsrException.class, () -> ca.issue("demo", "a1", TestKeys.csr(TestKeys.ecKeyPair("secp521r1"), "x"), null));
    }

    @Test
    void refusesACsrWithoutProofOfPossession() {
        String good = TestKeys.csr(TestKeys.ecKeyPair("secp256r1"), "x");
        // flip one character of the base64 body near its end (inside the signature)
        String[] lines = good.split("\n");
        int i = lines.length - 2;
        char[] chars = lines[i].toCharArray();
        int j = Math.max(0, chars.length - 6);
        chars[j] = chars[j] == 'A' ? 'B' : 'A';
        lines[i] = new String(chars);
        String tampered = String.join("\n", lines);
        CsrException e = assertThrows(CsrException.class, () -> ca.issue("demo", "a1", tampered, null));
        assertTrue(e.getMessage().contains("signature") || e.getMessage().contains("valid"), e.getMessage());
    }

    @Test
    void boundsTheTtlAndNeedsAKnownAgent() {
        String csr = TestKeys.csr(TestKeys.ecKeyPair("secp256r1"), "x");
        assertThrows(CsrException.class, () -> ca.issue("demo", "a1", csr, Duration.ofDays(365)));
        assertThrows(CsrException.class, () -> ca.issue("demo", "nobody", csr, null));
        assertThrows(CsrException.class, () -> ca.issue("demo", "a1", "not a csr", null));
    }

    /**
     * Issue 14 finding 15: a certificate rotated out (its overlap, valid_until, has ended) but not yet expired is on
     * the CRL, with reason superseded; one still inside its overlap is not, and neither is the new one.
     */
    @Test
    void rotatedOutCertificatesAreOnTheCrl() throws Exception {
        String agent = "rot.agent_1";
        broker.agent(agent, Agent.AuthMethod.TLS_CLIENT_AUTH, List.of());
        var store = broker.agents();
        long now = System.currentTimeMillis();
        AgentCa.Issued old = ca.issue("demo", agent, TestKeys.csr(TestKeys.ecKeyPair("secp256r1"), "x"), null);
        AgentCa.Issued overlapping = ca.issue("demo", agent, TestKeys.csr(TestKeys.ecKeyPair("secp256r1"), "x"), null);
        // the first rotation (old -> overlapping): its overlap ended a minute ago
        store.limitCredentials("demo", agent, now - 60_000,
                store.credentialByThumbprint("demo", overlapping.thumbprint()).orElseThrow().id());
        // the second rotation (overlapping -> current): its overlap ends in an hour
        AgentCa.Issued current = ca.issue("demo", agent, TestKeys.csr(TestKeys.ecKeyPair("secp256r1"), "x"), null);
        store.limitCredentials("demo", agent, now + 3_600_000,
                store.credentialByThumbprint("demo", current.thumbprint()).orElseThrow().id());
        broker.bean(dev.deputy.broker.agent.AgentChanges.class).changed("demo", agent);

        java.security.cert.X509CRL crl = (java.security.cert.X509CRL) java.security.cert.CertificateFactory.getInstance("X.509")
                .generateCRL(new java.io.ByteArrayInputStream(ca.crl("demo")));
        crl.verify(ca.ca("demo").certificate().getPublicKey());
        var entry = crl.getRevokedCertificate(new java.math.BigInteger(old.serial(), 16));
        assertTrue(entry != null, "the rotated-out certificate is listed");
        assertEquals(java.security.cert.CRLReason.SUPERSEDED, entry.getRevocationReason());
        assertEquals(null, crl.getRevokedCertificate(new java.math.BigInteger(overlapping.serial(), 16)));
        assertEquals(null, crl.getRevokedCertificate(new java.math.BigInteger(current.serial(), 16)));
    }

    @Test
    void caIsStableAcrossCalls() {
        assertEquals(ca.caPem("demo"), ca.caPem("demo"));
        assertTrue(ca.caPem("demo").contains("BEGIN CERTIFICATE"));
    }
}
