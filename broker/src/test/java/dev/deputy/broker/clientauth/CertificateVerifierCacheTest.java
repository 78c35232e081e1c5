package dev.deputy.broker.clientauth;

import dev.deputy.broker.agent.Agent;
import dev.deputy.broker.agent.AgentChanges;
import dev.deputy.broker.agent.AgentCredential;
import dev.deputy.broker.agent.AgentStore;
import dev.deputy.broker.config.PublicUrl;
import dev.deputy.broker.keys.SecretBox;
import dev.deputy.broker.oauth.AgentDirectory;
import dev.deputy.broker.oauth.AgentTestBroker;
import dev.deputy.broker.oauth.ClientCertificates;
import dev.deputy.broker.oauth.OAuthException;
import dev.deputy.broker.oauth.TestKeys;
import dev.deputy.broker.pki.AgentCa;
import dev.deputy.broker.pki.AgentCaStore;
import dev.deputy.broker.pki.Pem;
import dev.deputy.broker.tenant.Tenants;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The remembered chain checks of {@link CertificateVerifier}: a certificate's CA signature is checked once, while
 * its credential's revocation is read on every request and a new tenant CA is never answered from an entry made
 * for the old one.
 */
class CertificateVerifierCacheTest {
    @TempDir
    static Path dir;
    static AgentTestBroker broker;

    @BeforeAll
    static void start() {
        broker = AgentTestBroker.builder(dir).start();
        broker.standardFixture();
    }

    @AfterAll
    static void stop() {
        broker.close();
    }

    /** The real agent CA, except that the test decides which CA certificate the tenant has. */
    static AgentCa swappableCa(AtomicReference<AgentCa.Ca> current) {
        return new AgentCa(broker.bean(AgentCaStore.class), broker.bean(AgentStore.class), broker.bean(AgentChanges.class),
                broker.bean(SecretBox.class), broker.bean(Tenants.class), broker.bean(PublicUrl.class)) {
            @Override
            public Ca ca(String tenantId) {
                return current.get();
            }
        };
    }

    static AgentDirectory.Entry entry(String agent) {
        return broker.bean(AgentDirectory.class).find("demo", agent).orElseThrow();
    }

    static X509Certificate issue(String agent, KeyPair kp, AgentCa.Ca ca) {
        X509Certificate cert = TestKeys.certificate("CN=" + agent, kp.getPublic(), ca.certificate().getSubjectX500Principal(),
                ca.key(), Instant.now().minusSeconds(60), Instant.now().plus(Duration.ofHours(1)),
                broker.bean(AgentCa.class).spiffeId("demo", agent));
        broker.credential(agent, AgentCredential.Kind.CA_CERT, ClientCertificates.thumbprint(cert), Pem.write(cert));
        return cert;
    }

    @Test
    void aRevokedCertificateIsRefusedOnTheNextRequestAfterBeingCached() {
        broker.agent("cached-cert", Agent.AuthMethod.TLS_CLIENT_AUTH, List.of("reader"));
        AgentCa.Ca real = broker.bean(AgentCa.class).ca("demo");
        CertificateVerifier v = new CertificateVerifier(swappableCa(new AtomicReference<>(real)));
        X509Certificate cert = issue("cached-cert", TestKeys.ecKeyPair("secp256r1"), real);
        String thumbprint = ClientCertificates.thumbprint(cert);
        assertEquals(thumbprint, v.verifyCaIssued("demo", entry("cached-cert"), cert));
        assertEquals(thumbprint, v.verifyCaIssued("demo", entry("cached-cert"), cert));
        assertEquals(1, v.cachedChains());

        AgentCredential c = broker.agents().credentialByThumbprint("demo", thumbprint).orElseThrow();
        broker.agents().saveCredential(new AgentCredential(c.tenantId(), c.id(), c.agentId(), c.kind(), c.thumbprint(),
                c.serial(), c.material(), c.notBefore(), c.notAfter(), c.validUntil(), AgentCredential.Status.REVOKED,
                c.createdAt()));
        broker.bean(AgentChanges.class).changed("demo", "cached-cert");
        OAuthException e = assertThrows(OAuthException.class, () -> v.verifyCaIssued("demo", entry("cached-cert"), cert));
        assertTrue(e.error().getDescription().contains("revoked"), e.error().getDescription());
    }

    @Test
    void aNewTenantCaIsNotMaskedByTheCache() {
        broker.agent("ca-swap", Agent.AuthMethod.TLS_CLIENT_AUTH, List.of("reader"));
        AgentCa.Ca real = broker.bean(AgentCa.class).ca("demo");
        AtomicReference<AgentCa.Ca> current = new AtomicReference<>(real);
        CertificateVerifier v = new CertificateVerifier(swappableCa(current));
        X509Certificate cert = issue("ca-swap", TestKeys.ecKeyPair("secp256r1"), real);
        v.verifyCaIssued("demo", entry("ca-swap"), cert);

        // a new CA key under the same name: the certificate no longer chains to the tenant's CA
        KeyPair newCaKey = TestKeys.ecKeyPair("secp256r1");
        X509Certificate newCaCert = TestKeys.certificate(org.bouncycastle.asn1.x500.X500Name.getInstance(
                        real.certificate().getSubjectX500Principal().getEncoded()).toString(),
                newCaKey.getPublic(), real.certificate().getSubjectX500Principal(), newCaKey.getPrivate(),
                Instant.now().minusSeconds(60), Instant.now().plus(Duration.ofDays(1)), null);
        assertEquals(real.certificate().getSubjectX500Principal(), newCaCert.getSubjectX500Principal());
        current.set(new AgentCa.Ca(newCaCert, newCaKey.getPrivate(), Pem.write(newCaCert)));
        OAuthException e = assertThrows(OAuthException.class, () -> v.verifyCaIssued("demo", entry("ca-swap"), cert));
        assertTrue(e.error().getDescription().contains("not issued by"), e.error().getDescription());
        // and back to the old CA: still accepted (its entry was kept)
        current.set(real);
        v.verifyCaIssued("demo", entry("ca-swap"), cert);
    }

    @Test
    void failuresAreNotRemembered() {
        broker.agent("foreign", Agent.AuthMethod.TLS_CLIENT_AUTH, List.of("reader"));
        AgentCa.Ca real = broker.bean(AgentCa.class).ca("demo");
        CertificateVerifier v = new CertificateVerifier(swappableCa(new AtomicReference<>(real)));
        KeyPair foreignCa = TestKeys.ecKeyPair("secp256r1");
        KeyPair kp = TestKeys.ecKeyPair("secp256r1");
        X509Certificate cert = TestKeys.certificate("CN=foreign", kp.getPublic(), real.certificate().getSubjectX500Principal(),
                foreignCa.getPrivate(), Instant.now().minusSeconds(60), Instant.now().plusSeconds(3600),
                broker.bean(AgentCa.class).spiffeId("demo", "foreign"));
        assertThrows(OAuthException.class, () -> v.verifyCaIssued("demo", entry("foreign"), cert));
        assertEquals(0, v.cachedChains());
    }
}
