package dev.deputy.broker.oauth;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;
import com.sun.net.httpserver.HttpServer;
import dev.deputy.broker.agent.Agent;
import dev.deputy.broker.agent.AgentCredential;
import dev.deputy.broker.audit.AuditEntry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Map;

import static dev.deputy.broker.oauth.AgentTestBroker.json;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * client_credentials with private_key_jwt (RFC 7523) over HTTP on the embedded default: ES256, RS256 and EdDSA
 * keys, {@code aud} = issuer and = token endpoint, inline JWK Set and {@code jwks_uri}; and every rejection with
 * its exact error code and an audit entry.
 */
class PrivateKeyJwtHttpTest {
    @TempDir
    static Path dir;
    static AgentTestBroker broker;
    static JWK ecKey = TestKeys.ec();
    static JWK rsaKey = TestKeys.rsa();
    static JWK edKey = TestKeys.ed();
    static JWK remoteKey = TestKeys.ec();
    static HttpServer jwksServer;

    @BeforeAll
    static void start() throws Exception {
        broker = AgentTestBroker.builder(dir).start();
        broker.standardFixture();
        agentWithKey("agent-ec", ecKey, List.of("reader"));
        agentWithKey("agent-rsa", rsaKey, List.of("reader"));
        agentWithKey("agent-ed", edKey, List.of("reader", "writer"));
        agentWithKey("agent-suspended", TestKeys.ec(), List.of("reader"));
        broker.setStatus("agent-suspended", Agent.Status.SUSPENDED);
        agentWithKey("agent-revoked", TestKeys.ec(), List.of("reader"));
        broker.setStatus("agent-revoked", Agent.Status.REVOKED);
        broker.agent("agent-mtls", Agent.AuthMethod.TLS_CLIENT_AUTH, List.of("reader"));

        jwksServer = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        byte[] doc = TestKeys.publicJwks(remoteKey).getBytes(StandardCharsets.UTF_8);
        jwksServer.createContext("/jwks.json", ex -> {
            ex.getResponseHeaders().add("Content-Type", "application/json");
            ex.sendResponseHeaders(200, doc.length);
            ex.getResponseBody().write(doc);
            ex.close();
        });
        jwksServer.start();
        broker.agent("agent-remote", Agent.AuthMethod.PRIVATE_KEY_JWT, List.of("reader"));
        broker.credential("agent-remote", AgentCredential.Kind.JWKS_URI, null,
                "http://127.0.0.1:" + jwksServer.getAddress().getPort() + "/jwks.json");
    }

    @AfterAll
    static void stop() {
        if (jwksServer != null) {
            jwksServer.stop(0);
        }
        if (broker != null) {
            broker.close();
        }
    }

    static void agentWithKey(String id, JWK key, List<String> roles) {
        broker.agent(id, Agent.AuthMethod.PRIVATE_KEY_JWT, roles);
        broker.credential(id, AgentCredential.Kind.JWKS, null, TestKeys.publicJwks(key));
    }

    static HttpResponse<String> token(String assertion, Map<String, String> extra) {
        Map<String, String> form = TestKeys.assertionForm(assertion);
        form.putAll(extra);
        return broker.post("/t/demo/token", form);
    }

    static String assertion(JWK key, String clientId) {
        return TestKeys.sign(key, TestKeys.claims(clientId, broker.issuer()).build());
    }

    @Test
    void es256WithTokenEndpointAudience() throws Exception {
        HttpResponse<String> r = token(assertion(ecKey, "agent-ec"), Map.of());
        assertEquals(200, r.statusCode(), r.body());
        assertEquals("no-store", r.headers().firstValue("Cache-Control").orElse(null));
        Map<String, Object> body = json(r);
        assertEquals("Bearer", body.get("token_type"));
        assertEquals("files:read files:list", body.get("scope"));
        assertNull(body.get("refresh_token"));
        JWTClaimsSet claims = SignedJWT.parse((String) body.get("access_token")).getJWTClaimsSet();
        assertEquals("agent-ec", claims.getSubject());
        assertEquals("agent-ec", claims.getClaim("client_id"));
        assertEquals(List.of("https://files.example.com/mcp"), claims.getAudience());
        assertNull(claims.getClaim("cnf"));
        AuditEntry e = broker.lastAudit("token.issued");
        assertEquals("agent-ec", e.agentId());
        assertEquals("https://files.example.com/mcp", e.resource());
        assertEquals(claims.getJWTID(), AgentTestBroker.details(e).get("jti"));
        assertFalse(e.details().contains((String) body.get("access_token")));
    }

    @Test
    void rs256WithIssuerAudience() {
        String a = TestKeys.sign(rsaKey, TestKeys.claims("agent-rsa", broker.issuer()).build());
        HttpResponse<String> r = token(a, Map.of("scope", "files:read"));
        assertEquals(200, r.statusCode(), r.body());
        assertEquals("files:read", json(r).get("scope"));
    }

    @Test
    void eddsaWithAudienceArrayAndExplicitResource() throws Exception {
        String a = TestKeys.sign(edKey, TestKeys.claims("agent-ed", List.of(broker.issuer())).build());
        HttpResponse<String> r = token(a, Map.of("resource", "https://mail.example.com/mcp"));
        assertEquals(200, r.statusCode(), r.body());
        // writer applies only in "dev": the agent is in "prod"; mail accepts files:read only of the reader scopes
        assertEquals("files:read", json(r).get("scope"));
        JWTClaimsSet c = SignedJWT.parse((String) json(r).get("access_token")).getJWTClaimsSet();
        assertEquals(List.of("https://mail.example.com/mcp/"), c.getAudience());
    }

    @Test
    void jwksUriKeys() {
        HttpResponse<String> r = token(assertion(remoteKey, "agent-remote"), Map.of());
        assertEquals(200, r.statusCode(), r.body());
    }

    @Test
    void clientIdParameterMayAccompanyTheAssertion() {
        HttpResponse<String> r = token(assertion(ecKey, "agent-ec"), Map.of("client_id", "agent-ec"));
        assertEquals(200, r.statusCode(), r.body());
    }

    // ---- rejections: exact error code and an audit entry each

    static void rejected(HttpResponse<String> r, int status, String error, String agent) {
        assertEquals(status, r.statusCode(), r.body());
        assertEquals(error, json(r).get("error"), r.body());
        assertEquals("no-store", r.headers().firstValue("Cache-Control").orElse(null));
        AuditEntry e = broker.lastAudit("token.rejected");
        assertEquals("failure", e.outcome().toLowerCase());
        assertEquals(error, AgentTestBroker.details(e).get("error"));
        if (agent != null) {
            assertEquals(agent, e.agentId());
            assertEquals(agent, e.clientId());
        }
        assertNotNull(AgentTestBroker.details(e).get("reason"));
    }

    @Test
    void unknownAgent() {
        rejected(token(assertion(ecKey, "agent-nobody"), Map.of()), 401, "invalid_client", "agent-nobody");
    }

    @Test
    void suspendedAgent() {
        rejected(token(assertion(TestKeys.ec(), "agent-suspended"), Map.of()), 401, "invalid_client", "agent-suspended");
        assertTrue(AgentTestBroker.details(broker.lastAudit("token.rejected")).get("reason").toString().contains("suspended"));
    }

    @Test
    void revokedAgent() {
        rejected(token(assertion(TestKeys.ec(), "agent-revoked"), Map.of()), 401, "invalid_client", "agent-revoked");
    }

    @Test
    void wrongKey() {
        rejected(token(assertion(TestKeys.ec(), "agent-ec"), Map.of()), 401, "invalid_client", "agent-ec");
    }

    @Test
    void replayedJti() {
        String a = assertion(ecKey, "agent-ec");
        assertEquals(200, token(a, Map.of()).statusCode());
        rejected(token(a, Map.of()), 401, "invalid_client", "agent-ec");
        assertTrue(AgentTestBroker.details(broker.lastAudit("token.rejected")).get("reason").toString().contains("jti"));
    }

    @Test
    void algNone() {
        JWTClaimsSet c = TestKeys.claims("agent-ec", broker.issuer()).build();
        String unsigned = new PlainJWT(c).serialize();
        rejected(token(unsigned, Map.of()), 401, "invalid_client", "agent-ec");
    }

    @Test
    void hmacSignedWithThePublicKey() throws Exception {
        // the HS256/public-key confusion: the "secret" is the agent's public JWK
        byte[] secret = ecKey.toPublicJWK().toJSONString().getBytes(StandardCharsets.UTF_8);
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.HS256).type(JOSEObjectType.JWT)
                .keyID(ecKey.getKeyID()).build(), TestKeys.claims("agent-ec", broker.issuer()).build());
        jwt.sign(new MACSigner(secret));
        rejected(token(jwt.serialize(), Map.of()), 401, "invalid_client", "agent-ec");
    }

    @Test
    void wrongAudience() {
        String a = TestKeys.sign(ecKey, TestKeys.claims("agent-ec", "https://evil.example/token").build());
        rejected(token(a, Map.of()), 401, "invalid_client", "agent-ec");
        assertTrue(AgentTestBroker.details(broker.lastAudit("token.rejected")).get("reason").toString().contains("aud"));
    }

    /**
     * Issue 14 finding 15 (draft-ietf-oauth-rfc7523bis, the 2025 audience-injection class): by default aud is the
     * issuer identifier alone; the endpoint URLs RFC 7523 allowed, and arrays with more than the issuer, are refused.
     */
    @Test
    void audienceIsTheIssuerAlone() {
        for (Object aud : List.<Object>of(broker.tokenEndpoint(), broker.issuer() + "/introspect", broker.issuer() + "/",
                List.of(broker.issuer(), broker.tokenEndpoint()), List.of(broker.tokenEndpoint(), broker.issuer()))) {
            rejected(token(TestKeys.sign(ecKey, TestKeys.claims("agent-ec", aud).build()), Map.of()), 401, "invalid_client", "agent-ec");
            assertTrue(AgentTestBroker.details(broker.lastAudit("token.rejected")).get("reason").toString().contains("issuer"));
        }
        // the issuer as a one-element array is the same claim (RFC 7519 §4.1.3)
        assertEquals(200, token(TestKeys.sign(ecKey, TestKeys.claims("agent-ec", List.of(broker.issuer())).build()), Map.of())
                .statusCode());
    }

    @Test
    void expTooFarAhead() {
        String a = TestKeys.sign(ecKey, TestKeys.claims("agent-ec", broker.issuer())
                .expirationTime(Date.from(Instant.now().plusSeconds(3600))).build());
        rejected(token(a, Map.of()), 401, "invalid_client", "agent-ec");
    }

    @Test
    void expiredAssertion() {
        String a = TestKeys.sign(ecKey, TestKeys.claims("agent-ec", broker.issuer())
                .expirationTime(Date.from(Instant.now().minusSeconds(600))).build());
        rejected(token(a, Map.of()), 401, "invalid_client", "agent-ec");
    }

    @Test
    void issMustBeTheClient() {
        String a = TestKeys.sign(ecKey, TestKeys.claims("agent-ec", broker.issuer()).issuer("someone").build());
        rejected(token(a, Map.of()), 401, "invalid_client", "agent-ec");
    }

    @Test
    void methodNotRegistered() {
        // agent-mtls is registered for tls_client_auth: a signed assertion is not its method
        rejected(token(assertion(ecKey, "agent-mtls"), Map.of()), 401, "invalid_client", "agent-mtls");
        assertTrue(AgentTestBroker.details(broker.lastAudit("token.rejected")).get("reason").toString()
                .contains("tls_client_auth"));
    }

    @Test
    void scopeBeyondRoles() {
        rejected(token(assertion(ecKey, "agent-ec"), Map.of("scope", "files:read files:write")), 400, "invalid_scope",
                "agent-ec");
    }

    @Test
    void unknownResource() {
        rejected(token(assertion(ecKey, "agent-ec"), Map.of("resource", "https://unknown.example/mcp")), 400,
                "invalid_target", "agent-ec");
    }

    @Test
    void unsupportedGrantType() {
        Map<String, String> form = TestKeys.assertionForm(assertion(ecKey, "agent-ec"));
        form.put("grant_type", "urn:example:nope");
        rejected(broker.post("/t/demo/token", form), 400, "unsupported_grant_type", null);
    }

    @Test
    void noClientAuthentication() {
        rejected(broker.post("/t/demo/token", Map.of("grant_type", "client_credentials")), 401, "invalid_client", null);
    }

    @Test
    void garbageAssertion() {
        rejected(token("not.a.jwt", Map.of()), 401, "invalid_client", null);
    }

    // one parse serves client authentication and the grant; which part is malformed still decides the error

    static String body(String assertion, String more) {
        return "grant_type=client_credentials&client_assertion_type="
                + URLEncoder.encode("urn:ietf:params:oauth:client-assertion-type:jwt-bearer", StandardCharsets.UTF_8)
                + "&client_assertion=" + URLEncoder.encode(assertion, StandardCharsets.UTF_8) + more;
    }

    @Test
    void garbageAssertionInAnOtherwiseMalformedRequestIsInvalidClient() {
        // RFC 7523 §3.2: a client assertion that cannot be used is invalid_client, whatever else is wrong
        rejected(broker.postBody("/t/demo/token", body("not.a.jwt", "&scope=a&scope=b")), 401, "invalid_client", null);
    }

    @Test
    void repeatedParameterWithAGoodAssertionIsInvalidRequest() {
        // RFC 6749 §3.2: request parameters must not be included more than once
        rejected(broker.postBody("/t/demo/token", body(assertion(ecKey, "agent-ec"), "&scope=files:read&scope=files:list")),
                400, "invalid_request", "agent-ec");
    }

    @Test
    void relativeResourceIsInvalidTarget() {
        // RFC 8707 §2: an absolute URI without a fragment
        rejected(token(assertion(ecKey, "agent-ec"), Map.of("resource", "files/mcp")), 400, "invalid_target", "agent-ec");
    }

    @Test
    void eddsaAssertionWithAnIllegalResourceIsInvalidTarget() {
        rejected(broker.postBody("/t/demo/token", body(TestKeys.sign(edKey, TestKeys.claims("agent-ed",
                broker.issuer()).build()), "&resource=files/mcp")), 400, "invalid_target", "agent-ed");
    }

    @Test
    void metadataAdvertisesTheTokenEndpoint() {
        Map<String, Object> md = json(broker.get("/.well-known/oauth-authorization-server/t/demo"));
        assertEquals(broker.tokenEndpoint(), md.get("token_endpoint"));
        assertEquals(broker.issuer() + "/introspect", md.get("introspection_endpoint"));
        assertEquals(broker.issuer() + "/revoke", md.get("revocation_endpoint"));
        assertTrue(((List<?>) md.get("grant_types_supported")).contains("client_credentials"));
        assertTrue(((List<?>) md.get("token_endpoint_auth_methods_supported")).containsAll(
                List.of("private_key_jwt", "tls_client_auth", "self_signed_tls_client_auth")));
        List<?> algs = (List<?>) md.get("token_endpoint_auth_signing_alg_values_supported");
        assertTrue(algs.containsAll(List.of("ES256", "ES384", "RS256", "PS256", "EdDSA")));
        assertFalse(algs.contains("HS256"));
        assertNull(md.get("mtls_endpoint_aliases")); // no HTTPS listener in this test
    }
}
