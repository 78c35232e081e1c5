package dev.deputy.broker.federation;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jwt.SignedJWT;
import com.nimbusds.oauth2.sdk.AuthorizationCode;
import com.nimbusds.oauth2.sdk.AuthorizationCodeGrant;
import com.nimbusds.oauth2.sdk.TokenRequest;
import com.nimbusds.oauth2.sdk.id.ClientID;
import com.nimbusds.oauth2.sdk.pkce.CodeChallenge;
import com.nimbusds.oauth2.sdk.pkce.CodeChallengeMethod;
import com.nimbusds.oauth2.sdk.pkce.CodeVerifier;
import com.nimbusds.oauth2.sdk.util.URLUtils;
import dev.deputy.broker.audit.RequestMeta;
import dev.deputy.broker.clientauth.RegisteredClientAuthenticator;
import dev.deputy.broker.grant.authcode.AuthorizationCodeGrantHandler;
import dev.deputy.broker.oauth.TokenContext;
import dev.deputy.broker.tenant.Tenant;
import dev.deputy.broker.tenant.Tenants;
import dev.deputy.broker.testing.KeycloakServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The whole human login against a REAL Keycloak: realm, client, user and realm role created through its
 * admin REST API; the connector added through Deputy's admin API; the browser posts Keycloak's own login
 * form. Needs {@code -Ddeputy.keycloak.dist=<unpacked keycloak-quarkus-dist>} (the test starts it on a free
 * loopback port) or {@code -Ddeputy.keycloak.url=<running Keycloak>}; {@code scripts/e2e-keycloak} sets them.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class KeycloakE2ETest {
    static final ObjectMapper JSON = new ObjectMapper();
    /** Unique per run: Keycloak dev mode keeps its data between runs, and a shared Keycloak may be used. */
    static final String REALM = "deputy-e2e-" + Long.toString(System.nanoTime(), 36);
    @TempDir
    static Path dir;
    KeycloakServer keycloak;
    String kc;
    FedFixture fx;

    @BeforeAll
    void start() throws Exception {
        keycloak = KeycloakServer.sharedOrSkip();
        kc = keycloak.url();
        fx = new FedFixture(dir.resolve("broker"));
    }

    @AfterAll
    void stop() {
        if (keycloak != null) {
            keycloak.deleteRealm(REALM);
        }
        if (fx != null) {
            fx.close();
        }
    }

    // ------------------------------------------------------------------------------------------ the flow

    @Test
    void fullCodeFlowThroughKeycloakKeepsItsSubject() throws Exception {
        keycloak.admin("POST", "", Map.of("realm", REALM, "enabled", true));
        keycloak.admin("POST", "/" + REALM + "/clients", Map.of("clientId", "deputy", "enabled", true, "publicClient", false,
                "secret", "kc-client-s3cret", "standardFlowEnabled", true, "directAccessGrantsEnabled", false,
                "redirectUris", List.of(fx.issuer() + "/callback"), "attributes", Map.of("pkce.code.challenge.method", "S256")));
        keycloak.admin("POST", "/" + REALM + "/roles", Map.of("name", "deputy-dev"));
        String role = keycloak.admin("GET", "/" + REALM + "/roles/deputy-dev", null).body();
        HttpResponse<String> created = keycloak.admin("POST", "/" + REALM + "/users", Map.of("username", "ada", "enabled", true,
                "email", "ada@kc-e2e.example", "emailVerified", true, "firstName", "Ada", "lastName", "Lovelace",
                "credentials", List.of(Map.of("type", "password", "value", "pw-Ada-12345", "temporary", false))));
        String location = created.headers().firstValue("Location").orElseThrow();
        String userId = location.substring(location.lastIndexOf('/') + 1);
        keycloak.admin("POST", "/" + REALM + "/users/" + userId + "/role-mappings/realm", List.of(JSON.readValue(role, Map.class)));

        // the connector, through Deputy's admin API
        String connector = JSON.writeValueAsString(Map.of("id", "kc-e2e", "type", "keycloak", "issuer", kc + "/realms/" + REALM,
                "client_id", "deputy", "client_secret", "kc-client-s3cret", "email_domains", List.of("kc-e2e.example"),
                "role_mapping", Map.of("deputy-dev", "developer")));
        FedFixture.Browser browser = new FedFixture.Browser();
        HttpResponse<String> added = browser.send(HttpRequest.newBuilder(URI.create(fx.url() + "/admin/t/acme/connectors"))
                .header("Authorization", "Bearer " + fx.adminToken()).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(connector)).build());
        assertEquals(201, added.statusCode(), added.body());
        HttpResponse<String> test = browser.send(HttpRequest.newBuilder(URI.create(fx.url() + "/admin/t/acme/connectors/kc-e2e/test"))
                .header("Authorization", "Bearer " + fx.adminToken()).POST(HttpRequest.BodyPublishers.noBody()).build());
        assertTrue(test.body().contains("\"ok\":true"), test.body());

        // MCP-style client → /authorize → Keycloak login form → callback → code
        CodeVerifier verifier = new CodeVerifier();
        Map<String, List<String>> p = new LinkedHashMap<>();
        p.put("response_type", List.of("code"));
        p.put("client_id", List.of("mcp-inspector"));
        p.put("redirect_uri", List.of(FedFixture.CLIENT_REDIRECT));
        p.put("state", List.of("kc-state"));
        p.put("code_challenge", List.of(CodeChallenge.compute(CodeChallengeMethod.S256, verifier).getValue()));
        p.put("code_challenge_method", List.of("S256"));
        p.put("scope", List.of("tools:read tools:write"));
        p.put("resource", List.of(FedFixture.RESOURCE));
        p.put("login_hint", List.of("ada@kc-e2e.example"));
        HttpResponse<String> loginPage = browser.follow(fx.issuer() + "/authorize?" + URLUtils.serializeParameters(p), "never");
        assertEquals(200, loginPage.statusCode(), loginPage.body());
        Matcher m = Pattern.compile("<form[^>]*id=\"kc-form-login\"[^>]*action=\"([^\"]+)\"").matcher(loginPage.body());
        if (!m.find()) {
            m = Pattern.compile("action=\"([^\"]+login-actions/authenticate[^\"]*)\"").matcher(loginPage.body());
            assertTrue(m.find(), loginPage.body());
        }
        String action = m.group(1).replace("&amp;", "&");
        HttpResponse<String> posted = browser.postForm(loginPage.uri().resolve(action).toString(),
                Map.of("username", "ada", "password", "pw-Ada-12345", "credentialId", ""));
        assertEquals(302, posted.statusCode(), posted.body());
        HttpResponse<String> toClient = browser.follow(posted.headers().firstValue("Location").orElseThrow(), FedFixture.CLIENT_REDIRECT);
        if (toClient.statusCode() != 302) {
            // the first hop of follow() was not a redirect: we already are at the client
            toClient = posted;
        }
        Map<String, String> q = FedFixture.query(toClient.headers().firstValue("Location").orElseThrow());
        assertEquals("kc-state", q.get("state"), q.toString());
        assertEquals(fx.issuer(), q.get("iss"));
        assertNotNull(q.get("code"), q.toString());

        Tenant tenant = fx.bean(Tenants.class).find(FedFixture.TENANT).orElseThrow();
        TokenRequest tr = new TokenRequest.Builder(URI.create(fx.issuer() + "/token"), new ClientID("mcp-inspector"),
                new AuthorizationCodeGrant(new AuthorizationCode(q.get("code")), URI.create(FedFixture.CLIENT_REDIRECT), verifier)).build();
        var client = fx.bean(RegisteredClientAuthenticator.class).authenticate(tenant, fx.issuer(), null,
                new ClientID("mcp-inspector"), null).orElseThrow();
        var result = fx.bean(AuthorizationCodeGrantHandler.class).handle(new TokenContext(tenant, fx.issuer(), tr, null, client,
                RequestMeta.INTERNAL));
        SignedJWT at = SignedJWT.parse((String) result.body().get("access_token"));
        assertEquals(userId, at.getJWTClaimsSet().getSubject(), "Keycloak's sub, byte for byte");
        assertEquals(Map.of("format", "iss_sub", "iss", kc + "/realms/" + REALM, "sub", userId),
                at.getJWTClaimsSet().getJSONObjectClaim("sub_id"));
        assertEquals("ada@kc-e2e.example", at.getJWTClaimsSet().getStringClaim("email"));
        assertEquals("tools:read tools:write", at.getJWTClaimsSet().getStringClaim("scope"), "realm role deputy-dev → developer");
    }
}
