package dev.deputy.broker.clientauth;

import dev.deputy.broker.agent.Agent;
import dev.deputy.broker.oauth.ClientCertificates;
import dev.deputy.broker.oauth.TestKeys;
import dev.deputy.broker.pki.BrokerSslBuilder;
import dev.deputy.broker.pki.Pem;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslProvider;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static dev.deputy.broker.oauth.AgentTestBroker.json;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Every test of {@link MtlsHttpTest} again, with the HTTPS listener on BoringSSL ({@code deputy.tls-provider:
 * openssl}): {@code want}, any client certificate through the handshake (pinned self-signed, CA-issued, foreign
 * CA: the broker decides), the peer certificate reaching the request, TLS 1.2 and 1.3. Plus the one thing it cannot
 * do: Ed25519 client certificates (BoringSSL does not offer Ed25519 in its CertificateRequest).
 */
class OpensslMtlsHttpTest extends MtlsHttpTest {
    @BeforeAll
    static void start() {
        assumeTrue(OpenSsl.isAvailable(), "netty-tcnative did not load here");
        startBroker("openssl");
        assertEquals(SslProvider.OPENSSL_REFCNT, broker.bean(BrokerSslBuilder.class).provider());
    }

    /** The same revocation test with an EC P-384 certificate (Ed25519: see below). */
    @Override
    @Test
    void revokedCertificateIsRejectedAndListedInTheCrl() throws Exception {
        revokedCertificate(TestKeys.ecKeyPair("secp384r1"));
    }

    @Test
    void tls12AndTls13BothCarryTheClientCertificate() throws Exception {
        for (String protocol : List.of("TLSv1.2", "TLSv1.3")) {
            SSLParameters p = new SSLParameters();
            p.setProtocols(new String[]{protocol});
            HttpClient client = HttpClient.newBuilder().sslContext(TestKeys.clientTls(agentKey.getPrivate(), agentCert))
                    .sslParameters(p).connectTimeout(Duration.ofSeconds(5)).build();
            HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create(broker.httpsUrl() + "/t/demo/token"))
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .POST(HttpRequest.BodyPublishers.ofString("grant_type=client_credentials&client_id=mtls-agent")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode(), protocol + ": " + r.body());
            assertTrue(r.body().contains("access_token"), protocol);
        }
    }

    @Test
    void rsaCaIssuedCertificate() {
        broker.agent("rsa-agent", Agent.AuthMethod.TLS_CLIENT_AUTH, List.of("reader"));
        KeyPair kp = TestKeys.keyPair("RSA", 2048);
        X509Certificate cert = Pem.certificate((String) issue("rsa-agent", kp, false, null).get("certificate"));
        HttpResponse<String> r = token(TestKeys.clientTls(kp.getPrivate(), cert), "rsa-agent");
        assertEquals(200, r.statusCode(), r.body());
        assertTrue(((String) json(r).get("access_token")).length() > 0);
        assertEquals(ClientCertificates.thumbprint(cert), MtlsHttpTest.thumbprintOf((String) json(r).get("access_token")));
    }

    @Test
    void ed25519ClientCertificatesCannotBePresentedOverBoringSsl() {
        broker.agent("ed-agent", Agent.AuthMethod.TLS_CLIENT_AUTH, List.of("reader"));
        KeyPair kp = TestKeys.keyPair("Ed25519", 0);
        X509Certificate cert = Pem.certificate((String) issue("ed-agent", kp, false, null).get("certificate"));
        // the client finds no signature algorithm it may use with its key and sends no certificate: the agent is
        // refused for lacking its method (the audited reason; the answer says only "client authentication failed")
        rejected(token(TestKeys.clientTls(kp.getPrivate(), cert), "ed-agent"), "ed-agent", "tls_client_auth");
    }
}
