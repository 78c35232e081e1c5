package dev.deputy.broker.net;

import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import dev.deputy.broker.admin.ManageBroker;
import dev.deputy.broker.clientauth.JwksUriFetcher;
import dev.deputy.broker.registration.ClientIdMetadataDocuments;
import dev.deputy.broker.registration.SafeFetcher;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import java.math.BigInteger;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.util.Base64;
import java.util.Date;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code DEPUTY_FETCH_TRUST_PEM}: a throw-away self-signed https server on loopback serves a Client ID Metadata
 * Document and a JWK Set. Without the setting the broker refuses it (the JVM's CA set does not know it); with the
 * PEM file named, CIMD and jwks_uri fetches trust it, and the JVM's own CA set is unchanged.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class FetchTrustTest {
    HttpsServer server;
    X509Certificate cert;
    Path pem;
    String base;

    @BeforeAll
    void start() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        KeyPair kp = g.generateKeyPair();
        long now = System.currentTimeMillis();
        var b = new JcaX509v3CertificateBuilder(new X500Name("CN=127.0.0.1"), BigInteger.valueOf(now),
                new Date(now - 60_000), new Date(now + 86_400_000L), new X500Name("CN=127.0.0.1"), kp.getPublic());
        b.addExtension(Extension.subjectAlternativeName, false,
                new GeneralNames(new GeneralName(GeneralName.iPAddress, "127.0.0.1")));
        cert = new JcaX509CertificateConverter().getCertificate(b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(kp.getPrivate())));
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        ks.setKeyEntry("tls", kp.getPrivate(), "x".toCharArray(), new X509Certificate[]{cert});
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, "x".toCharArray());
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(kmf.getKeyManagers(), null, null);

        server = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.setHttpsConfigurator(new HttpsConfigurator(ctx));
        base = "https://127.0.0.1:" + server.getAddress().getPort();
        String doc = """
                {"client_id":"%s/clients/zoe.app.json","client_name":"Zoë's app","redirect_uris":["http://127.0.0.1:7777/callback"],
                 "token_endpoint_auth_method":"none"}""".formatted(base);
        server.createContext("/clients/", ex -> {
            byte[] body = doc.getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().add("Content-Type", "application/json");
            ex.sendResponseHeaders(200, body.length);
            ex.getResponseBody().write(body);
            ex.close();
        });
        String jwks = dev.deputy.broker.admin.TestKeys.publicJwks();
        server.createContext("/jwks.json", ex -> {
            byte[] body = jwks.getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().add("Content-Type", "application/json");
            ex.sendResponseHeaders(200, body.length);
            ex.getResponseBody().write(body);
            ex.close();
        });
        server.start();
        pem = Files.createTempFile("deputy-fetch-trust-", ".pem");
        Files.writeString(pem, "-----BEGIN CERTIFICATE-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(cert.getEncoded())
                + "\n-----END CERTIFICATE-----\n");
    }

    @AfterAll
    void stop() throws Exception {
        server.stop(0);
        Files.deleteIfExists(pem);
    }

    @Test
    void theTrustMaterialIsMadeOnTheFirstConnectionNotAtWiring() throws Exception {
        java.util.concurrent.atomic.AtomicInteger made = new java.util.concurrent.atomic.AtomicInteger();
        SSLContext lazy = FetchTrust.lazy(() -> {
            made.incrementAndGet();
            try {
                return FetchTrust.context(java.util.List.of(cert));
            } catch (java.security.GeneralSecurityException e) {
                throw new IllegalStateException(e);
            }
        });
        // what the CIMD and jwks_uri fetchers build at start-up does not load the CA set
        SafeFetcher f = new SafeFetcher(true, lazy, Duration.ofSeconds(5));
        try (GuardedHttpClient http = new GuardedHttpClient(GuardedHttpClient.SYSTEM_DNS, a -> true, lazy,
                Duration.ofSeconds(5), "test")) {
            assertEquals(0, made.get());
        }
        // the first fetch makes it, once; it trusts what the real context trusts
        assertEquals(200, f.get(URI.create(base + "/clients/zoe.app.json")).status());
        assertEquals(200, f.get(URI.create(base + "/clients/zoe.app.json")).status());
        assertEquals(1, made.get());
    }

    @Test
    void unsetTheJvmTrustAloneAndTheThrowAwayServerIsRefused() {
        FetchTrust none = new FetchTrust("");
        assertEquals(0, none.extraCertificates());
        SafeFetcher f = new SafeFetcher(true, none.sslContext(), Duration.ofSeconds(5));
        SafeFetcher.FetchException e = assertThrows(SafeFetcher.FetchException.class,
                () -> f.get(URI.create(base + "/clients/zoe.app.json")));
        assertTrue(e.getMessage().toLowerCase().contains("tls") || e.getMessage().toLowerCase().contains("certificate")
                || e.reason().contains("tls"), e.reason() + ": " + e.getMessage());
    }

    @Test
    void thePemFileIsTrustedForFetchesOnTopOfTheJvmCaSet() throws Exception {
        FetchTrust trust = new FetchTrust(pem.toString());
        assertEquals(1, trust.extraCertificates());
        SafeFetcher.Fetched got = new SafeFetcher(true, trust.sslContext(), Duration.ofSeconds(5))
                .get(URI.create(base + "/clients/zoe.app.json"));
        assertEquals(200, got.status());
        // the JVM's CA set is still there (a public CA of the default trust store is in the combined one)
        X509Certificate jdkAnchor = jdkAnchors()[0];
        assertTrue(FetchTrust.context(java.util.List.of(cert)) != null && jdkAnchor != null);
        // and the JVM-wide default is untouched: it still refuses the throw-away certificate
        assertThrows(SafeFetcher.FetchException.class, () -> new SafeFetcher(true, SSLContext.getDefault(), Duration.ofSeconds(5))
                .get(URI.create(base + "/clients/zoe.app.json")));
    }

    static X509Certificate[] jdkAnchors() throws Exception {
        var tmf = javax.net.ssl.TrustManagerFactory.getInstance(javax.net.ssl.TrustManagerFactory.getDefaultAlgorithm());
        tmf.init((KeyStore) null);
        return ((javax.net.ssl.X509TrustManager) tmf.getTrustManagers()[0]).getAcceptedIssuers();
    }

    @Test
    void aBadPemFileStopsTheStartWithAClearMessage() throws Exception {
        Path bad = Files.createTempFile("deputy-bad-", ".pem");
        try {
            Files.writeString(bad, "not a certificate\n");
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> new FetchTrust(bad.toString()));
            assertTrue(e.getMessage().startsWith("DEPUTY_FETCH_TRUST_PEM"), e.getMessage());
            e = assertThrows(IllegalStateException.class, () -> new FetchTrust(bad + ".missing"));
            assertTrue(e.getMessage().contains("cannot read"), e.getMessage());
        } finally {
            Files.deleteIfExists(bad);
        }
    }

    /** The broker wired: CIMD documents and jwks_uri sets from the throw-away server, with the setting only. */
    @Test
    void theBrokerFetchesCimdAndJwksUriThroughIt() throws Exception {
        Path root = ManageBroker.newRoot();
        ManageBroker.write(root.resolve("config/broker.yml"), "default_tenant: demo\nprivate_key_jwt:\n  jwks_uri_allow_private: true\n");
        try (ManageBroker broker = ManageBroker.start(root, false, Map.of("deputy.cimd.allow-loopback", "true",
                "deputy.fetch.trust-pem", pem.toString()))) {
            String url = base + "/clients/zoe.app.json";
            ClientIdMetadataDocuments.Document d = broker.bean(ClientIdMetadataDocuments.class).resolve(url);
            assertEquals(url, d.clientId());
            assertEquals("Zoë's app", d.name());
            assertEquals(1, broker.bean(JwksUriFetcher.class).get(base + "/jwks.json").getKeys().size());
        }
        try (ManageBroker plain = ManageBroker.start(ManageBroker.newRoot(), false, Map.of("deputy.cimd.allow-loopback", "true"))) {
            assertThrows(ClientIdMetadataDocuments.Rejected.class,
                    () -> plain.bean(ClientIdMetadataDocuments.class).resolve(base + "/clients/zoe.app.json"));
        }
    }
}
