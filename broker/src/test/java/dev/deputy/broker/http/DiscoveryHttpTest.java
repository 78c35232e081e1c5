package dev.deputy.broker.http;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.oauth2.sdk.as.AuthorizationServerMetadata;
import com.nimbusds.oauth2.sdk.auth.ClientAuthenticationMethod;
import com.nimbusds.openid.connect.sdk.op.OIDCProviderMetadata;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.deputy.broker.testing.ConfigFixture;
import dev.deputy.broker.testing.TestBroker;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.net.http.HttpResponse;
import java.util.List;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** RFC 8414 / OpenID discovery for the shipped demo tenant, behind a configured public URL. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DiscoveryHttpTest {
    static final String PUBLIC = "https://auth.example.test";
    static final String ISSUER = PUBLIC + "/t/demo";
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path tmp;
    TestBroker broker;

    @BeforeAll
    void start() throws Exception {
        Path config = ConfigFixture.copyOfShipped(Files.createDirectories(tmp.resolve("config")));
        // a trailing slash in DEPUTY_PUBLIC_URL must not produce "//t/demo"
        broker = TestBroker.builder(tmp.resolve("data"), config).publicUrl(PUBLIC + "/").start();
    }

    @AfterAll
    void stop() {
        if (broker != null) {
            broker.close();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "/.well-known/oauth-authorization-server/t/demo",   // RFC 8414 §3.1 path insertion
            "/t/demo/.well-known/oauth-authorization-server"})  // appended, for lenient clients
    void metadataAtEveryWellKnownPath(String path) throws Exception {
        HttpResponse<String> r = broker.get(path);
        assertEquals(200, r.statusCode(), r.body());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("application/json"));
        // the raw bytes carry the issuer exactly as configured: no escaped slashes, no trailing slash
        assertTrue(r.body().contains("\"issuer\":\"" + ISSUER + "\""), r.body());
        assertFalse(r.body().contains("\\/"), "no JSON-escaped slashes: " + r.body());
        JsonNode md = JSON.readTree(r.body());
        assertEquals(ISSUER, md.get("issuer").asText());
        assertEquals(ISSUER + "/jwks.json", md.get("jwks_uri").asText());
        // RFC 7636 via OAuth 2.1: S256 only, never plain
        assertEquals(JSON.readTree("[\"S256\"]"), md.get("code_challenge_methods_supported"));
        // RFC 8414 §2 as Nimbus reads it
        assertEquals(ISSUER, AuthorizationServerMetadata.parse(r.body()).getIssuer().getValue());
    }

    /**
     * Issue 14 finding 14: every client authentication method the broker accepts is listed (RFC 8414 §2); public
     * clients (none) only at the token endpoint, since introspection and revocation need an authenticated caller.
     */
    @Test
    void authMethodsAreWhatTheEndpointsAccept() throws Exception {
        AuthorizationServerMetadata md = AuthorizationServerMetadata.parse(
                broker.get("/.well-known/oauth-authorization-server/t/demo").body());
        List<String> token = md.getTokenEndpointAuthMethods().stream().map(ClientAuthenticationMethod::getValue).toList();
        assertEquals(List.of("client_secret_basic", "client_secret_post", "none", "private_key_jwt",
                "self_signed_tls_client_auth", "tls_client_auth"), token);
        List<String> authenticated = List.of("client_secret_basic", "client_secret_post", "private_key_jwt",
                "self_signed_tls_client_auth", "tls_client_auth");
        assertEquals(authenticated, md.getIntrospectionEndpointAuthMethods().stream().map(ClientAuthenticationMethod::getValue).toList());
        assertEquals(authenticated, md.getRevocationEndpointAuthMethods().stream().map(ClientAuthenticationMethod::getValue).toList());
        assertTrue(md.getTokenEndpointJWSAlgs().contains(JWSAlgorithm.ES256));
    }

    /**
     * Issue 14 finding 14: Deputy issues no ID tokens, so it publishes no OpenID discovery document (one would have to
     * carry what OpenID Connect Discovery 1.0 §3 REQUIRES of a provider, and lie). Both OpenID locations are 404; the
     * RFC 8414 document is not a valid OpenID provider document either (Nimbus refuses it), so no client mistakes it.
     */
    @ParameterizedTest
    @ValueSource(strings = {"/.well-known/openid-configuration/t/demo", "/t/demo/.well-known/openid-configuration"})
    void noOpenIdDiscoveryDocument(String path) throws Exception {
        HttpResponse<String> r = broker.get(path);
        assertEquals(404, r.statusCode(), r.body());
        assertEquals("not_found", JSON.readTree(r.body()).get("error").asText());
        String oauth = broker.get("/.well-known/oauth-authorization-server/t/demo").body();
        assertThrows(com.nimbusds.oauth2.sdk.ParseException.class, () -> OIDCProviderMetadata.parse(oauth));
    }

    @Test
    void bothDocumentsNameTheSameIssuer() throws Exception {
        String oauth = JSON.readTree(broker.get("/.well-known/oauth-authorization-server/t/demo").body()).get("issuer").asText();
        String appended = JSON.readTree(broker.get("/t/demo/.well-known/oauth-authorization-server").body()).get("issuer").asText();
        assertEquals(oauth, appended);
        assertEquals(ISSUER, appended);
    }

    @Test
    void jwksIsServedWhereTheMetadataSays() throws Exception {
        HttpResponse<String> r = broker.get("/t/demo/jwks.json");
        assertEquals(200, r.statusCode());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("application/jwk-set+json"));
        JsonNode keys = JSON.readTree(r.body()).get("keys");
        assertEquals(1, keys.size());
        assertEquals("ES256", keys.get(0).get("alg").asText());
        assertEquals("sig", keys.get(0).get("use").asText());
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "/.well-known/oauth-authorization-server/t/nope",
            "/.well-known/openid-configuration/t/nope",
            "/t/nope/.well-known/openid-configuration",
            "/.well-known/openid-configuration",
            "/t/nope/.well-known/oauth-authorization-server",
            "/t/nope/jwks.json",
            "/.well-known/oauth-authorization-server/t/DEMO",
            "/.well-known/oauth-authorization-server/t/demo/extra"})
    void unknownTenantIs404Json(String path) throws Exception {
        HttpResponse<String> r = broker.get(path);
        assertEquals(404, r.statusCode(), r.body());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("application/json"));
        JsonNode body = JSON.readTree(r.body());
        assertEquals("not_found", body.get("error").asText());
        assertFalse(r.body().contains("demo"), "a 404 does not tell which tenants exist: " + r.body());
    }
}
