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
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
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
    Process keycloak;
    String kc;
    FedFixture fx;
    final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @BeforeAll
    void start() throws Exception {
        String url = System.getProperty("deputy.keycloak.url");
        String dist = System.getProperty("deputy.keycloak.dist");
        Assumptions.assumeTrue(url != null || dist != null,
                "no Keycloak: run scripts/e2e-keycloak (or pass -Ddeputy.keycloak.dist / -Ddeputy.keycloak.url)");
        if (url != null) {
            kc = url.replaceAll("/$", "");
        } else {
            int port;
            try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
                port = s.getLocalPort();
            }
            ProcessBuilder pb = new ProcessBuilder(Path.of(dist, "bin", "kc.sh").toString(), "start-dev",
                    "--http-host=127.0.0.1", "--http-port=" + port, "--cache=local")
                    .redirectErrorStream(true).redirectOutput(dir.resolve("keycloak.log").toFile());
            pb.environment().put("KC_BOOTSTRAP_ADMIN_USERNAME", "admin");
            pb.environment().put("KC_BOOTSTRAP_ADMIN_PASSWORD", "admin");
            pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
            keycloak = pb.start();
            kc = "http://127.0.0.1:" + port;
        }
        waitForKeycloak();
        fx = new FedFixture(dir.resolve("broker"));
    }

    @AfterAll
    void stop() throws Exception {
        if (kc != null) {
            try {
                admin(adminToken(), "DELETE", "/" + REALM, null);
            } catch (Exception | AssertionError ignored) {
                // best effort
            }
        }
        if (fx != null) {
            fx.close();
        }
        if (keycloak != null) {
            keycloak.destroy();
            if (!keycloak.waitFor(20, java.util.concurrent.TimeUnit.SECONDS)) {
                keycloak.destroyForcibly();
            }
        }
    }

    void waitForKeycloak() throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(300).toNanos();
        while (System.nanoTime() < deadline) {
            if (keycloak != null && !keycloak.isAlive()) {
                throw new IllegalStateException("Keycloak exited: " + Files.readString(dir.resolve("keycloak.log")));
            }
            try {
                if (http.send(HttpRequest.newBuilder(URI.create(kc + "/realms/master")).build(),
                        HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
                    return;
                }
            } catch (IOException notYet) {
                // starting
            }
            Thread.sleep(1000);
        }
        throw new IllegalStateException("Keycloak did not start within 300 s");
    }

    // ------------------------------------------------------------------------------------------ Keycloak admin API

    String adminToken() throws Exception {
        String form = URLUtils.serializeParameters(Map.of("grant_type", List.of("password"), "client_id", List.of("admin-cli"),
                "username", List.of(System.getProperty("deputy.keycloak.admin-user", "admin")),
                "password", List.of(System.getProperty("deputy.keycloak.admin-password", "admin"))));
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(kc + "/realms/master/protocol/openid-connect/token"))
                .header("Content-Type", "application/x-www-form-urlencoded").POST(HttpRequest.BodyPublishers.ofString(form)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        return (String) JSON.readValue(r.body(), Map.class).get("access_token");
    }

    HttpResponse<String> admin(String token, String method, String path, Object body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(kc + "/admin/realms" + path)).header("Authorization", "Bearer " + token);
        if (body != null) {
            b.header("Content-Type", "application/json").method(method, HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body)));
        } else {
            b.method(method, HttpRequest.BodyPublishers.noBody());
        }
        HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        assertTrue(r.statusCode() / 100 == 2, () -> method + " " + path + " → " + r.statusCode() + " " + r.body());
        return r;
    }

    // ------------------------------------------------------------------------------------------ the flow

    @Test
    void fullCodeFlowThroughKeycloakKeepsItsSubject() throws Exception {
        String t = adminToken();
        admin(t, "POST", "", Map.of("realm", REALM, "enabled", true));
        admin(t, "POST", "/" + REALM + "/clients", Map.of("clientId", "deputy", "enabled", true, "publicClient", false,
                "secret", "kc-client-s3cret", "standardFlowEnabled", true, "directAccessGrantsEnabled", false,
                "redirectUris", List.of(fx.issuer() + "/callback"), "attributes", Map.of("pkce.code.challenge.method", "S256")));
        admin(t, "POST", "/" + REALM + "/roles", Map.of("name", "deputy-dev"));
        String role = admin(t, "GET", "/" + REALM + "/roles/deputy-dev", null).body();
        HttpResponse<String> created = admin(t, "POST", "/" + REALM + "/users", Map.of("username", "ada", "enabled", true,
                "email", "ada@kc-e2e.example", "emailVerified", true, "firstName", "Ada", "lastName", "Lovelace",
                "credentials", List.of(Map.of("type", "password", "value", "pw-Ada-12345", "temporary", false))));
        String location = created.headers().firstValue("Location").orElseThrow();
        String userId = location.substring(location.lastIndexOf('/') + 1);
        admin(t, "POST", "/" + REALM + "/users/" + userId + "/role-mappings/realm", List.of(JSON.readValue(role, Map.class)));

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
