package dev.deputy.connectors;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;
import dev.deputy.connectors.ConnectorException.Code;
import dev.deputy.connectors.ConnectorTestReport.Status;
import dev.deputy.connectors.UpstreamConnector.TokenKind;
import no.nav.security.mock.oauth2.http.OAuth2HttpResponseKt;
import no.nav.security.mock.oauth2.http.OAuth2HttpRouterKt;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GenericOidcConnectorTest {

    static final URI REDIRECT = URI.create("https://deputy.example/t/acme/callback");
    static final String SUB = "00uA1b2/C3+d4=é ü"; // odd characters: must survive byte for byte

    MockIdp idp;
    final AtomicReference<JWKSet> rotatingKeys = new AtomicReference<>();

    @BeforeEach
    void start() {
        idp = new MockIdp(
                // an IdP whose token endpoint answers with an unsigned (alg: none) ID token
                OAuth2HttpRouterKt.route("/unsigned/token", req -> OAuth2HttpResponseKt.json(Map.of(
                        "access_token", "at", "token_type", "Bearer", "expires_in", 60,
                        "id_token", new PlainJWT(new JWTClaimsSet.Builder().issuer(idp.issuer("unsigned")).subject(SUB)
                                .audience("deputy").expirationTime(new Date(System.currentTimeMillis() + 60_000)).build()).serialize()))),
                // an IdP whose JWKS the test rotates
                OAuth2HttpRouterKt.route("/rotating/jwks", req -> OAuth2HttpResponseKt.json(rotatingKeys.get().toJSONObject())));
    }

    @AfterEach
    void stop() {
        idp.close();
    }

    Map<String, Object> config(String issuerId, Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>(Map.of("id", "corp", "type", "oidc", "issuer", idp.issuer(issuerId),
                "client_id", "deputy", "client_secret", "s3cr3t-value"));
        for (int i = 0; i < kv.length; i += 2) m.put((String) kv[i], kv[i + 1]);
        return m;
    }

    UpstreamIdentity login(UpstreamConnector c, String issuerId, Map<String, Object> claims) throws Exception {
        LoginRequest req = c.beginLogin(REDIRECT);
        idp.enqueue(issuerId, SUB, claims);
        return c.completeLogin(idp.authorize(req.authorizationUri()), req.pending());
    }

    static void assertCode(Code code, Executable e) {
        ConnectorException ex = assertThrows(ConnectorException.class, e);
        assertEquals(code, ex.code(), ex.getMessage());
    }

    @Test
    void fullLoginMapsClaimsAndKeepsSubByteExact() throws Exception {
        UpstreamConnector c = Connectors.fromMap(config("generic",
                "claims", Map.of("email", "mail", "groups", "memberOf"),
                "role_mapping", Map.of("eng", List.of("developer"), "admins", "admin")));
        LoginRequest req = c.beginLogin(REDIRECT);
        String url = req.authorizationUri().toString();
        assertTrue(url.startsWith(idp.issuer("generic") + "/authorize?"), url);
        assertTrue(url.contains("code_challenge_method=S256") && url.contains("nonce=") && url.contains("state="), url);
        assertFalse(url.contains(req.pending().codeVerifier()), "verifier must not leave the broker");

        idp.enqueue("generic", SUB, Map.of("mail", "ada@corp.example", "name", "Ada Lovelace",
                "memberOf", List.of("eng", "admins", "other"), "email_verified", true));
        UpstreamIdentity id = c.completeLogin(idp.authorize(req.authorizationUri()), req.pending());

        assertEquals(SUB, id.subject());
        assertEquals(idp.issuer("generic"), id.issuer());
        assertEquals("ada@corp.example", id.email());
        assertEquals(Boolean.TRUE, id.emailVerified());
        assertEquals("Ada Lovelace", id.name());
        assertEquals(List.of("eng", "admins", "other"), id.groups());
        assertEquals(Set.of("developer", "admin"), id.roles());
        assertEquals("corp", id.connectorId());
        assertEquals(SUB, id.claims().get("sub"));
    }

    @Test
    void userinfoIsMergedWhenEnabled() throws Exception {
        UpstreamConnector c = Connectors.fromMap(config("generic", "userinfo", true));
        UpstreamIdentity id = login(c, "generic", Map.of("email", "ada@corp.example", "groups", List.of("g1")));
        assertEquals(SUB, id.subject());
        assertEquals(List.of("g1"), id.groups());
    }

    @Test
    void pkceVerifierIsBoundToTheCode() throws Exception {
        UpstreamConnector c = Connectors.fromMap(config("generic"));
        LoginRequest req = c.beginLogin(REDIRECT);
        idp.enqueue("generic", SUB, Map.of());
        Map<String, List<String>> cb = idp.authorize(req.authorizationUri());
        PendingLogin p = req.pending();
        PendingLogin wrongVerifier = new PendingLogin(p.connectorId(), p.state(), p.nonce(),
                new com.nimbusds.oauth2.sdk.pkce.CodeVerifier().getValue(), p.redirectUri(), p.createdAt());
        assertCode(Code.TOKEN_REQUEST_FAILED, () -> c.completeLogin(cb, wrongVerifier));
    }

    @Test
    void privateKeyJwtAndClientSecretPostReachTheTokenEndpoint() throws Exception {
        RSAKey key = new RSAKeyGenerator(2048).keyID("deputy-1").generate();
        UpstreamConnector pkjwt = Connectors.fromMap(config("generic", "client_auth", "private_key_jwt",
                "private_jwk", key.toJSONString()));
        assertFalse(pkjwt.config().toString().contains(key.getPrivateExponent().toString()));
        assertEquals(SUB, login(pkjwt, "generic", Map.of()).subject());
        String body = tokenRequestBody();
        assertTrue(body.contains("client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer"), body);
        String assertion = com.nimbusds.oauth2.sdk.util.URLUtils.parseParameters(body).get("client_assertion").getFirst();
        SignedJWT jwt = SignedJWT.parse(assertion);
        assertTrue(jwt.verify(new com.nimbusds.jose.crypto.RSASSAVerifier(key.toPublicJWK())));
        // RFC 7523 §3: iss = sub = client_id, aud = token endpoint
        assertEquals("deputy", jwt.getJWTClaimsSet().getIssuer());
        assertEquals(List.of(idp.issuer("generic") + "/token"), jwt.getJWTClaimsSet().getAudience());

        UpstreamConnector post = Connectors.fromMap(config("generic", "client_auth", "client_secret_post"));
        assertEquals(SUB, login(post, "generic", Map.of()).subject());
        String postBody = tokenRequestBody();
        assertTrue(postBody.contains("client_secret=s3cr3t-value") && postBody.contains("client_id=deputy"), postBody);
    }

    private String tokenRequestBody() {
        for (int i = 0; i < 20; i++) {
            var r = idp.server.takeRequest();
            if (r.getPath().endsWith("/token")) return r.getBody().readUtf8();
        }
        throw new AssertionError("no token request recorded");
    }

    @Test
    void stateMismatchIsRejected() throws Exception {
        UpstreamConnector c = Connectors.fromMap(config("generic"));
        LoginRequest req = c.beginLogin(REDIRECT);
        Map<String, List<String>> cb = new LinkedHashMap<>(idp.authorize(req.authorizationUri()));
        cb.put("state", List.of("forged-state"));
        assertCode(Code.STATE_MISMATCH, () -> c.completeLogin(cb, req.pending()));
        // a pending login of another connector is no better
        UpstreamConnector other = Connectors.fromMap(config("generic", "id", "other"));
        assertCode(Code.STATE_MISMATCH, () -> other.completeLogin(idp.authorize(req.authorizationUri()), req.pending()));
    }

    @Test
    void upstreamErrorResponseIsReported() {
        UpstreamConnector c = Connectors.fromMap(config("generic"));
        LoginRequest req = c.beginLogin(REDIRECT);
        Map<String, List<String>> cb = Map.of("error", List.of("access_denied"), "error_description", List.of("user said no"),
                "state", List.of(req.state()));
        ConnectorException e = assertThrows(ConnectorException.class, () -> c.completeLogin(cb, req.pending()));
        assertEquals(Code.UPSTREAM_ERROR, e.code());
        assertTrue(e.getMessage().contains("access_denied"));
    }

    @Test
    void nonceMismatchIsRejected() {
        UpstreamConnector c = Connectors.fromMap(config("generic"));
        assertCode(Code.NONCE_MISMATCH, () -> login(c, "generic", Map.of("nonce", "replayed-nonce")));
    }

    @Test
    void idTokenFromAnotherIssuerIsRejected() throws Exception {
        UpstreamConnector c = Connectors.fromMap(config("generic"));
        // signed with the right key but naming another issuer
        assertCode(Code.ISSUER_MISMATCH, () -> login(c, "generic", Map.of("iss", idp.issuer("evil"))));
        // issued (and signed) by another issuer altogether: its key is unknown here
        String foreign = idp.server.issueToken("evil", "deputy", new MockIdp.Callback("evil", SUB, Map.of("aud", "deputy"), 600)).serialize();
        assertCode(Code.INVALID_ID_TOKEN, () -> c.validateUpstreamToken(foreign, TokenKind.ID_TOKEN, Set.of()));
    }

    @Test
    void wrongAudienceIsRejected() {
        UpstreamConnector c = Connectors.fromMap(config("generic"));
        assertCode(Code.AUDIENCE_MISMATCH, () -> login(c, "generic", Map.of("aud", List.of("someone-else"))));
        // OIDC Core §3.1.3.7: azp naming another client
        assertCode(Code.AUDIENCE_MISMATCH, () -> login(c, "generic", Map.of("aud", List.of("deputy", "x"), "azp", "x")));
    }

    @Test
    void expiredIdTokenIsRejected() {
        // The mock issues tokens valid for 3600 s; a connector clock 3600 + 600 s ahead sees them expired beyond the
        // 60 s skew. (Overriding exp through a callback would also hit the access token and give a negative expires_in.)
        ConnectorConfig cfg = ConnectorConfig.fromMap(config("generic"));
        UpstreamConnector late = Connectors.create(cfg, ConnectorOptions.defaults().withClock(Clock.offset(Clock.systemUTC(), Duration.ofSeconds(4200))));
        assertCode(Code.EXPIRED, () -> login(late, "generic", Map.of()));
        // 20 s past exp is within the skew and still accepted
        UpstreamConnector skewed = Connectors.create(cfg, ConnectorOptions.defaults().withClock(Clock.offset(Clock.systemUTC(), Duration.ofSeconds(3620))));
        assertEquals(SUB, assertDoesNotThrow(() -> login(skewed, "generic", Map.of())).subject());
        // a token issued in the future (iat beyond the skew) is not accepted either
        UpstreamConnector early = Connectors.create(cfg, ConnectorOptions.defaults().withClock(Clock.offset(Clock.systemUTC(), Duration.ofSeconds(-600))));
        assertCode(Code.INVALID_ID_TOKEN, () -> login(early, "generic", Map.of()));
    }

    @Test
    void unsignedIdTokenFromTheTokenEndpointIsRejected() {
        UpstreamConnector c = Connectors.fromMap(config("unsigned"));
        assertCode(Code.ALGORITHM_NOT_ALLOWED, () -> login(c, "unsigned", Map.of()));
    }

    @Test
    void algNoneAndHmacAreRejectedOnUpstreamTokens() throws Exception {
        UpstreamConnector c = Connectors.fromMap(config("generic"));
        JWTClaimsSet claims = new JWTClaimsSet.Builder().issuer(idp.issuer("generic")).subject(SUB).audience("deputy")
                .issueTime(new Date()).expirationTime(new Date(System.currentTimeMillis() + 60_000)).build();
        assertCode(Code.ALGORITHM_NOT_ALLOWED, () -> c.validateUpstreamToken(new PlainJWT(claims).serialize(), TokenKind.ID_TOKEN, Set.of()));
        SignedJWT hmac = new SignedJWT(new JWSHeader(JWSAlgorithm.HS256), claims);
        hmac.sign(new MACSigner("a-shared-secret-that-is-32-bytes!".getBytes()));
        assertCode(Code.ALGORITHM_NOT_ALLOWED, () -> c.validateUpstreamToken(hmac.serialize(), TokenKind.ID_TOKEN, Set.of()));
    }

    @Test
    void upstreamAccessTokenValidation() {
        UpstreamConnector c = Connectors.fromMap(config("generic"));
        String at = idp.server.issueToken("generic", SUB, "api://deputy", Map.of("email", "ada@corp.example")).serialize();
        UpstreamIdentity id = c.validateUpstreamToken(at, TokenKind.ACCESS_TOKEN, Set.of("api://deputy"));
        assertEquals(SUB, id.subject());
        assertEquals("ada@corp.example", id.email());
        assertCode(Code.AUDIENCE_MISMATCH, () -> c.validateUpstreamToken(at, TokenKind.ACCESS_TOKEN, Set.of("api://other")));
        String expired = idp.server.issueToken("generic", SUB, "api://deputy", Map.of(), -600).serialize();
        assertCode(Code.EXPIRED, () -> c.validateUpstreamToken(expired, TokenKind.ACCESS_TOKEN, Set.of("api://deputy")));
        assertCode(Code.INVALID_TOKEN, () -> c.validateUpstreamToken("not-a-jwt", TokenKind.ACCESS_TOKEN, Set.of()));
    }

    @Test
    void signingKeyRotationIsPickedUpOnUnknownKid() throws Exception {
        RSAKey k1 = new RSAKeyGenerator(2048).keyID("k1").generate();
        RSAKey k2 = new RSAKeyGenerator(2048).keyID("k2").generate();
        rotatingKeys.set(new JWKSet(k1.toPublicJWK()));
        ConnectorOptions opts = new ConnectorOptions(java.time.Clock.systemUTC(), Duration.ofSeconds(5), Duration.ofSeconds(5),
                256 * 1024, Duration.ofHours(1), Duration.ofHours(1), Duration.ofMillis(1));
        UpstreamConnector c = Connectors.create(ConnectorConfig.fromMap(config("rotating")), opts);
        assertEquals(SUB, c.validateUpstreamToken(sign(k1, "rotating"), TokenKind.ID_TOKEN, Set.of()).subject());
        rotatingKeys.set(new JWKSet(List.of(k1.toPublicJWK(), k2.toPublicJWK())));
        Thread.sleep(20);
        assertEquals(SUB, c.validateUpstreamToken(sign(k2, "rotating"), TokenKind.ID_TOKEN, Set.of()).subject());
    }

    private String sign(RSAKey key, String issuerId) throws Exception {
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(key.getKeyID()).build(),
                new JWTClaimsSet.Builder().issuer(idp.issuer(issuerId)).subject(SUB).audience("deputy")
                        .issueTime(new Date()).expirationTime(Date.from(Instant.now().plusSeconds(60))).build());
        jwt.sign(new RSASSASigner(key));
        return jwt.serialize();
    }

    @Test
    void connectorTestReportsHealthyIdp() {
        ConnectorTestReport r = Connectors.fromMap(config("generic")).test();
        assertTrue(r.ok(), r.toString());
        List<String> names = new ArrayList<>(r.checks().stream().map(ConnectorTestReport.Check::name).toList());
        assertTrue(names.containsAll(List.of("discovery", "issuer", "endpoints", "response_type", "pkce", "client_auth", "jwks")), names.toString());
    }

    @Test
    void connectorTestListsProblems() {
        // issuer configured with a trailing slash the IdP does not publish
        ConnectorTestReport mismatch = Connectors.fromMap(config("generic", "issuer", idp.issuer("generic") + "/")).test();
        assertFalse(mismatch.ok());
        assertEquals(Status.FAIL, mismatch.checks().stream().filter(ch -> ch.name().equals("issuer")).findFirst().orElseThrow().status());
        assertCode(Code.ISSUER_MISMATCH, () -> Connectors.fromMap(config("generic", "issuer", idp.issuer("generic") + "/")).beginLogin(REDIRECT));

        ConnectorTestReport down = Connectors.fromMap(config("generic", "issuer", "http://127.0.0.1:1/nowhere")).test();
        assertEquals(List.of("discovery"), down.checks().stream().map(ConnectorTestReport.Check::name).toList());
        assertEquals(Status.FAIL, down.checks().getFirst().status());
        assertCode(Code.DISCOVERY_FAILED, () -> Connectors.fromMap(config("generic", "issuer", "http://127.0.0.1:1/nowhere")).beginLogin(REDIRECT));
    }

    @Test
    void configErrorsNameTheFieldAndSecretsStayHidden() {
        Map<String, Object> m = config("generic");
        m.remove("client_id");
        ConnectorException e = assertThrows(ConnectorException.class, () -> ConnectorConfig.fromMap(m));
        assertEquals(Code.INVALID_CONFIG, e.code());
        assertTrue(e.getMessage().contains("'client_id'"), e.getMessage());

        assertTrue(assertThrows(ConnectorException.class, () -> ConnectorConfig.fromMap(config("generic", "client_auth", "tls")))
                .getMessage().contains("'client_auth'"));
        assertTrue(assertThrows(ConnectorException.class, () -> ConnectorConfig.fromMap(config("generic", "scopes", "email profile")))
                .getMessage().contains("'scopes'"));
        assertTrue(assertThrows(ConnectorException.class, () -> ConnectorConfig.fromMap(config("generic", "issuer", "http://idp.example.com")))
                .getMessage().contains("'issuer'"));
        assertTrue(assertThrows(ConnectorException.class, () -> ConnectorConfig.fromMap(config("generic", "allowed_algs", List.of("HS256"))))
                .getMessage().contains("'allowed_algs'"));

        ConnectorConfig ok = ConnectorConfig.fromMap(config("generic", "email_domains", List.of("Corp.Example")));
        assertFalse(ok.toString().contains("s3cr3t"), ok.toString());
        assertEquals("s3cr3t-value", ok.clientSecret().reveal());
        assertTrue(ok.handlesEmail("ada@corp.example"));
        assertFalse(ok.handlesEmail("ada@evil.example"));
        assertNotNull(ConnectorRegistry.of(List.of(Connectors.create(ok))).forEmail("x@CORP.example".toLowerCase()).orElse(null));
    }
}
