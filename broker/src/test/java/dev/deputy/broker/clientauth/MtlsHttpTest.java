package dev.deputy.broker.clientauth;

import com.nimbusds.jwt.SignedJWT;
import dev.deputy.broker.agent.Agent;
import dev.deputy.broker.agent.AgentChanges;
import dev.deputy.broker.agent.AgentCredential;
import dev.deputy.broker.audit.AuditEntry;
import dev.deputy.broker.oauth.AgentTestBroker;
import dev.deputy.broker.oauth.ClientCertificates;
import dev.deputy.broker.oauth.TestKeys;
import dev.deputy.broker.pki.AgentCa;
import dev.deputy.broker.pki.Pem;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.SSLContext;
import java.io.ByteArrayInputStream;
import java.math.BigInteger;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.CertificateFactory;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static dev.deputy.broker.oauth.AgentTestBroker.json;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * mTLS client authentication over the broker's real HTTPS listener (RFC 8705): a CA-issued certificate from the
 * admin endpoint gets a certificate-bound token; a pinned self-signed certificate works; and expired,
 * not-yet-valid, foreign-CA, revoked, rotated-out and other-agent certificates are rejected with
 * {@code invalid_client} and audited.
 */
class MtlsHttpTest {
    @TempDir
    static Path dir;
    static AgentTestBroker broker;
    static String admin;
    static KeyPair agentKey = TestKeys.ecKeyPair("secp256r1");
    static X509Certificate agentCert;
    static String agentThumbprint;

    @BeforeAll
    static void start() {
        startBroker("jdk");
    }

    /** Starts the broker with the HTTPS listener on the given TLS provider ({@code deputy.tls-provider}). */
    static void startBroker(String tlsProvider) {
        broker = AgentTestBroker.builder(dir).tls().property("deputy.tls-provider", tlsProvider).start();
        broker.standardFixture();
        broker.agent("mtls-agent", Agent.AuthMethod.TLS_CLIENT_AUTH, List.of("reader"));
        broker.agent("other-mtls", Agent.AuthMethod.TLS_CLIENT_AUTH, List.of("reader"));
        broker.agent("pinned-agent", Agent.AuthMethod.SELF_SIGNED_TLS_CLIENT_AUTH, List.of("reader"));
        admin = broker.adminToken();
        Map<String, Object> issued = issue("mtls-agent", agentKey, false, null);
        agentCert = Pem.certificate((String) issued.get("certificate"));
        agentThumbprint = (String) issued.get("thumbprint");
    }

    @AfterAll
    static void stop() {
        broker.close();
    }

    static Map<String, Object> issue(String agent, KeyPair kp, boolean rotate, String overlap) {
        String body = "{\"csr\":" + quote(TestKeys.csr(kp, agent)) + ",\"ttl\":\"1h\",\"rotate\":" + rotate
                + (overlap == null ? "" : ",\"overlap\":\"" + overlap + "\"") + "}";
        HttpResponse<String> r = broker.postJson("/admin/t/demo/agents/" + agent + "/certificates", admin, body);
        assertEquals(200, r.statusCode(), r.body());
        return json(r);
    }

    /** The {@code cnf.x5t#S256} of an access token. */
    static Object thumbprintOf(String accessToken) {
        try {
            return SignedJWT.parse(accessToken).getJWTClaimsSet().getJSONObjectClaim("cnf").get("x5t#S256");
        } catch (java.text.ParseException e) {
            throw new IllegalStateException(e);
        }
    }

    static String quote(String s) {
        return "\"" + s.replace("\n", "\\n") + "\"";
    }

    static HttpResponse<String> token(SSLContext tls, String clientId) {
        return broker.postTls(tls, "/t/demo/token", Map.of("grant_type", "client_credentials", "client_id", clientId));
    }

    static void rejected(HttpResponse<String> r, String agent, String reasonPart) {
        assertEquals(401, r.statusCode(), r.body());
        assertEquals("invalid_client", json(r).get("error"));
        AuditEntry e = broker.lastAudit("token.rejected");
        assertEquals(agent, e.agentId());
        String reason = String.valueOf(AgentTestBroker.details(e).get("reason"));
        assertTrue(reason.contains(reasonPart), reason);
    }

    @Test
    void caIssuedCertificateGetsACertificateBoundToken() throws Exception {
        HttpResponse<String> r = token(TestKeys.clientTls(agentKey.getPrivate(), agentCert), "mtls-agent");
        assertEquals(200, r.statusCode(), r.body());
        var claims = SignedJWT.parse((String) json(r).get("access_token")).getJWTClaimsSet();
        assertEquals("mtls-agent", claims.getSubject());
        assertEquals(Map.of("x5t#S256", agentThumbprint), claims.getJSONObjectClaim("cnf"));
        assertEquals(ClientCertificates.thumbprint(agentCert), agentThumbprint);
        assertEquals("spiffe://localhost/t/demo/agent/mtls-agent", CertificateVerifier.uriSans(agentCert).get(0));
        AuditEntry issued = broker.lastAudit("token.issued");
        assertEquals("tls_client_auth", AgentTestBroker.details(issued).get("auth_method"));
        AuditEntry certAudit = broker.lastAudit("agent.certificate.issued");
        assertEquals("admin", AgentTestBroker.details(certAudit).get("admin"));

        // introspection over mTLS echoes the binding
        HttpResponse<String> i = broker.postTls(TestKeys.clientTls(agentKey.getPrivate(), agentCert), "/t/demo/introspect",
                Map.of("client_id", "mtls-agent", "token", (String) json(r).get("access_token")));
        assertEquals(200, i.statusCode(), i.body());
        assertEquals(Map.of("x5t#S256", agentThumbprint), json(i).get("cnf"));
    }

    @Test
    void pinnedSelfSignedCertificate() throws Exception {
        KeyPair kp = TestKeys.keyPair("RSA", 2048);
        X509Certificate cert = TestKeys.selfSigned(kp, "pinned-agent");
        broker.credential("pinned-agent", AgentCredential.Kind.PINNED_CERT, ClientCertificates.thumbprint(cert),
                Pem.write(cert));
        HttpResponse<String> r = token(TestKeys.clientTls(kp.getPrivate(), cert), "pinned-agent");
        assertEquals(200, r.statusCode(), r.body());
        var claims = SignedJWT.parse((String) json(r).get("access_token")).getJWTClaimsSet();
        assertEquals(ClientCertificates.thumbprint(cert), claims.getJSONObjectClaim("cnf").get("x5t#S256"));
        // an unpinned self-signed certificate is refused
        KeyPair other = TestKeys.ecKeyPair("secp256r1");
        rejected(token(TestKeys.clientTls(other.getPrivate(), TestKeys.selfSigned(other, "pinned-agent")), "pinned-agent"),
                "pinned-agent", "not pinned");
    }

    static X509Certificate signedByCa(KeyPair subject, String agent, Instant notBefore, Instant notAfter) {
        AgentCa.Ca ca = broker.bean(AgentCa.class).ca("demo");
        return TestKeys.certificate("CN=" + agent, subject.getPublic(), ca.certificate().getSubjectX500Principal(),
                ca.key(), notBefore, notAfter, "spiffe://localhost/t/demo/agent/" + agent);
    }

    @Test
    void expiredCertificate() {
        KeyPair kp = TestKeys.ecKeyPair("secp256r1");
        X509Certificate cert = signedByCa(kp, "mtls-agent", Instant.now().minus(Duration.ofHours(2)),
                Instant.now().minus(Duration.ofHours(1)));
        rejected(token(TestKeys.clientTls(kp.getPrivate(), cert), "mtls-agent"), "mtls-agent", "expired");
    }

    @Test
    void notYetValidCertificate() {
        KeyPair kp = TestKeys.ecKeyPair("secp256r1");
        X509Certificate cert = signedByCa(kp, "mtls-agent", Instant.now().plus(Duration.ofHours(1)),
                Instant.now().plus(Duration.ofHours(2)));
        rejected(token(TestKeys.clientTls(kp.getPrivate(), cert), "mtls-agent"), "mtls-agent", "not yet valid");
    }

    @Test
    void foreignCa() {
        KeyPair foreignCa = TestKeys.ecKeyPair("secp256r1");
        KeyPair kp = TestKeys.ecKeyPair("secp256r1");
        var caName = broker.bean(AgentCa.class).ca("demo").certificate().getSubjectX500Principal();
        // same issuer name as the real CA, signed by another key
        X509Certificate cert = TestKeys.certificate("CN=mtls-agent", kp.getPublic(), caName, foreignCa.getPrivate(),
                Instant.now().minusSeconds(60), Instant.now().plusSeconds(3600), "spiffe://localhost/t/demo/agent/mtls-agent");
        rejected(token(TestKeys.clientTls(kp.getPrivate(), cert), "mtls-agent"), "mtls-agent", "not issued by");
    }

    @Test
    void certificateNamingAnotherAgent() {
        KeyPair kp = TestKeys.ecKeyPair("secp384r1");
        X509Certificate other = Pem.certificate((String) issue("other-mtls", kp, false, null).get("certificate"));
        rejected(token(TestKeys.clientTls(kp.getPrivate(), other), "mtls-agent"), "mtls-agent", "does not name this agent");
        // and it works for the agent it names
        assertEquals(200, token(TestKeys.clientTls(kp.getPrivate(), other), "other-mtls").statusCode());
    }

    @Test
    void revokedCertificateIsRejectedAndListedInTheCrl() throws Exception {
        revokedCertificate(TestKeys.keyPair("Ed25519", 0));
    }

    /** Issued, used (so its chain check is cached), revoked: refused on the very next request, listed in the CRL. */
    static void revokedCertificate(KeyPair kp) throws Exception {
        broker.agent("revoke-me", Agent.AuthMethod.TLS_CLIENT_AUTH, List.of("reader"));
        Map<String, Object> issued = issue("revoke-me", kp, false, null);
        X509Certificate cert = Pem.certificate((String) issued.get("certificate"));
        assertEquals(200, token(TestKeys.clientTls(kp.getPrivate(), cert), "revoke-me").statusCode());
        AgentCredential c = broker.agents().credentialByThumbprint("demo", (String) issued.get("thumbprint")).orElseThrow();
        broker.agents().saveCredential(new AgentCredential(c.tenantId(), c.id(), c.agentId(), c.kind(), c.thumbprint(),
                c.serial(), c.material(), c.notBefore(), c.notAfter(), c.validUntil(), AgentCredential.Status.REVOKED,
                c.createdAt()));
        broker.bean(AgentChanges.class).changed("demo", "revoke-me");
        rejected(token(TestKeys.clientTls(kp.getPrivate(), cert), "revoke-me"), "revoke-me", "revoked");

        HttpResponse<byte[]> crlResp = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                java.net.URI.create(broker.url() + "/t/demo/agent-ca.crl")).build(), HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(200, crlResp.statusCode());
        X509CRL crl = (X509CRL) CertificateFactory.getInstance("X.509").generateCRL(new ByteArrayInputStream(crlResp.body()));
        X509Certificate ca = Pem.certificate(broker.get("/t/demo/agent-ca.pem").body());
        crl.verify(ca.getPublicKey());
        assertNotNull(crl.getRevokedCertificate(new BigInteger((String) issued.get("serial"), 16)));
        cert.verify(ca.getPublicKey());
    }

    @Test
    void rotationWithoutOverlapRetiresTheOldCertificate() {
        broker.agent("rotating", Agent.AuthMethod.TLS_CLIENT_AUTH, List.of("reader"));
        KeyPair oldKey = TestKeys.ecKeyPair("secp256r1");
        X509Certificate oldCert = Pem.certificate((String) issue("rotating", oldKey, false, null).get("certificate"));
        assertEquals(200, token(TestKeys.clientTls(oldKey.getPrivate(), oldCert), "rotating").statusCode());
        KeyPair newKey = TestKeys.ecKeyPair("secp256r1");
        X509Certificate newCert = Pem.certificate((String) issue("rotating", newKey, true, "0s").get("certificate"));
        assertEquals(200, token(TestKeys.clientTls(newKey.getPrivate(), newCert), "rotating").statusCode());
        rejected(token(TestKeys.clientTls(oldKey.getPrivate(), oldCert), "rotating"), "rotating", "no longer valid");
    }

    @Test
    void noCertificate() {
        rejected(broker.postTls(TestKeys.clientTls(null), "/t/demo/token",
                Map.of("grant_type", "client_credentials", "client_id", "mtls-agent")), "mtls-agent", "");
    }

    @Test
    void csrPolicyIsEnforcedByTheAdminEndpoint() {
        KeyPair weak = TestKeys.keyPair("RSA", 1024);
        HttpResponse<String> r = broker.postJson("/admin/t/demo/agents/mtls-agent/certificates", admin,
                "{\"csr\":" + quote(TestKeys.csr(weak, "x")) + "}");
        assertEquals(400, r.statusCode(), r.body());
        assertEquals("invalid_request", json(r).get("error"));
        HttpResponse<String> unauth = broker.postJson("/admin/t/demo/agents/mtls-agent/certificates", "nope", "{}");
        assertEquals(401, unauth.statusCode());
    }

    @Test
    void metadataAdvertisesMtlsAliases() {
        Map<String, Object> md = json(broker.get("/.well-known/oauth-authorization-server/t/demo"));
        @SuppressWarnings("unchecked")
        Map<String, Object> aliases = (Map<String, Object>) md.get("mtls_endpoint_aliases");
        String port = broker.httpsUrl().substring(broker.httpsUrl().lastIndexOf(':') + 1);
        assertEquals("https://localhost:" + port + "/t/demo/token", aliases.get("token_endpoint"));
        assertEquals("https://localhost:" + port + "/t/demo/introspect", aliases.get("introspection_endpoint"));
        assertEquals("https://localhost:" + port + "/t/demo/revoke", aliases.get("revocation_endpoint"));
        assertEquals(true, md.get("tls_client_certificate_bound_access_tokens"));
    }

    @Test
    void serverCertificateIsKeptInTheDataDir() throws Exception {
        Path crt = dir.resolve("data/tls/server.crt");
        assertTrue(Files.exists(crt));
        assertTrue(Files.readString(crt, StandardCharsets.US_ASCII).contains("BEGIN CERTIFICATE"));
        assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(
                Files.getPosixFilePermissions(dir.resolve("data/tls/server.key"))));
    }
}
