package dev.deputy.broker.console;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.oauth2.sdk.pkce.CodeChallenge;
import com.nimbusds.oauth2.sdk.pkce.CodeChallengeMethod;
import com.nimbusds.oauth2.sdk.pkce.CodeVerifier;
import com.nimbusds.oauth2.sdk.util.URLUtils;
import com.sun.net.httpserver.HttpServer;
import dev.deputy.broker.audit.AuditEntry;
import dev.deputy.broker.federation.FedFixture;
import dev.deputy.broker.federation.FedFixture.Browser;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.WebElement;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static dev.deputy.broker.federation.FedFixture.RESOURCE;
import static dev.deputy.broker.federation.FedFixture.query;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The login pages and the account page in a real browser (headless Chromium through Selenium, {@link BrowserHarness}),
 * against the in-process broker and a real OIDC provider upstream (mock-oauth2-server, {@link FedFixture}): a user
 * signs in through the chooser's e-mail field (home-realm discovery), allows an external application, which redeems
 * its code and holds a refresh token; the user opens the account page, sees the consent and the token family, revokes
 * the consent; the application's next refresh fails. The chooser, consent, error, account and signed-out pages are
 * checked with axe-core and photographed, in English and German.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AccountPageBrowserTest {
    static final String USER_SUB = "00u.jonathan.christopher.williams";
    static final String USER_EMAIL = "jonathan.christopher.williams@okta.example";
    static final ObjectMapper JSON = new ObjectMapper();
    /** A small logo as a data: URI (validated as such by tenant.yml's branding). */
    static final String LOGO = "data:image/svg+xml;base64," + java.util.Base64.getEncoder().encodeToString(
            "<svg xmlns='http://www.w3.org/2000/svg' width='40' height='40'><rect width='40' height='40' rx='8' fill='#0b5394'/></svg>"
                    .getBytes(StandardCharsets.UTF_8));

    @TempDir
    static Path dir;
    FedFixture fx;
    HttpServer client;
    String clientRedirect;

    @BeforeAll
    void start() throws IOException {
        BrowserHarness.assumeAvailable();
        fx = new FedFixture(dir, """
                branding:
                  logo_url: "%s"
                  primary_color: "#0b5394"
                """.formatted(LOGO), Map.of(), f -> Map.of(
                // no default connector: the chooser (with its e-mail field) is shown
                "tenants/acme/connectors/okta.yml", """
                        id: okta
                        type: okta
                        display_name: Okta <SSO>
                        issuer: %s
                        client_id: deputy
                        client_secret_env: FED_TEST_UPSTREAM_SECRET
                        email_domains: [okta.example]
                        role_mapping: { engineers: developer }
                        """.formatted(f.issuer("oauth2/default")),
                "tenants/acme/resources/mcp.yml", """
                        id: mcp
                        uri: %s
                        name: Acme MCP <tools>
                        default: true
                        scopes: [tools:read, tools:write, admin]
                        scope_descriptions:
                          tools:read: Read the files and tickets in Acme's tools
                          tools:write: Change files and tickets in Acme's tools
                        """.formatted(RESOURCE)));
        // the application's redirect target: a loopback page (RFC 8252 §7.3, any port)
        client = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        client.createContext("/callback", ex -> {
            byte[] body = "<!doctype html><html lang=en><title>Client</title><main><h1>Back at the application</h1></main></html>"
                    .getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().add("Content-Type", "text/html");
            ex.sendResponseHeaders(200, body.length);
            ex.getResponseBody().write(body);
            ex.close();
        });
        client.start();
        clientRedirect = "http://127.0.0.1:" + client.getAddress().getPort() + "/callback";
    }

    @AfterAll
    void stop() {
        if (client != null) {
            client.stop(0);
        }
        if (fx != null) {
            fx.close();
        }
    }

    String authorizeUrl(CodeVerifier v, String extra) {
        Map<String, List<String>> p = new LinkedHashMap<>();
        p.put("response_type", List.of("code"));
        p.put("client_id", List.of("ext-app"));
        p.put("redirect_uri", List.of(clientRedirect));
        p.put("state", List.of("st-" + UUID.randomUUID()));
        p.put("code_challenge", List.of(CodeChallenge.compute(CodeChallengeMethod.S256, v).getValue()));
        p.put("code_challenge_method", List.of("S256"));
        p.put("scope", List.of("tools:read tools:write"));
        p.put("resource", List.of(RESOURCE));
        return fx.issuer() + "/authorize?" + URLUtils.serializeParameters(p) + extra;
    }

    /** On the chooser: types the e-mail into the home-realm discovery field and continues. */
    static void hrd(BrowserHarness b, String email) {
        WebElement field = b.find("#email");
        field.clear();
        field.sendKeys(email);
        b.find("form.hrd button[type=submit]").click();
    }

    Map<String, Object> token(Map<String, String> form) {
        HttpResponse<String> r = new Browser().postForm(fx.issuer() + "/token", form);
        try {
            @SuppressWarnings("unchecked")
            Map<String, Object> m = JSON.readValue(r.body(), Map.class);
            m.put("_status", r.statusCode());
            return m;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Test
    void userSignsInAllowsSeesAndRevokesAndTheClientsNextRefreshFails() {
        try (BrowserHarness b = new BrowserHarness(null)) {
            // 1. the application sends the user to /authorize: the chooser, with the tenant's branding
            CodeVerifier v = new CodeVerifier();
            b.open(authorizeUrl(v, ""));
            assertEquals("Sign in to Acme <Corp>", b.text("h1"));
            assertEquals("Acme <Corp>", b.text("header .tenant"));
            assertTrue(b.find("header img.logo").getAttribute("src").startsWith("data:image/svg+xml;base64,"));
            assertEquals(4, b.all("ul.choices a").size());
            b.check("login chooser (en)", "login-chooser-en");

            // 2. home-realm discovery: the e-mail's domain picks Okta; then the consent page, scope descriptions
            fx.enqueue("oauth2/default", USER_SUB, Map.of("email", USER_EMAIL, "name", "Jonathan Williams",
                    "groups", List.of("engineers")));
            hrd(b, USER_EMAIL);
            b.await(d -> d.getTitle().equals("Allow access?"));
            assertEquals("External <b>App</b>", b.text("#consent p strong"));
            String scopes = b.text("ul.scopes");
            assertTrue(scopes.contains("Read the files and tickets in Acme's tools") && scopes.contains("tools:read"), scopes);
            assertTrue(scopes.contains("Change files and tickets in Acme's tools") && scopes.contains("tools:write"), scopes);
            b.check("consent (en)", "consent-en");

            // 3. allowed: back at the application with a code, redeemed for tokens with a refresh token
            b.find("button[value=allow]").click();
            b.awaitUrl(clientRedirect);
            Map<String, String> q = query(b.driver.getCurrentUrl());
            assertNotNull(q.get("code"), q::toString);
            Map<String, Object> tokens = token(Map.of("grant_type", "authorization_code", "code", q.get("code"),
                    "redirect_uri", clientRedirect, "code_verifier", v.getValue(), "client_id", "ext-app"));
            assertEquals(200, tokens.get("_status"), tokens::toString);
            String refresh = (String) tokens.get("refresh_token");
            assertNotNull(refresh, tokens::toString);

            // 4. the account page: its own sign-in (chooser, same e-mail), then the consent and the live family
            b.open(fx.issuer() + "/account");
            assertEquals("Sign in to Acme <Corp>", b.text("h1"));
            fx.enqueue("oauth2/default", USER_SUB, Map.of("email", USER_EMAIL, "groups", List.of("engineers")));
            hrd(b, USER_EMAIL);
            b.awaitUrl(fx.issuer() + "/account");
            b.await(d -> d.getTitle().equals("Your account"));
            assertTrue(b.text("#account").contains(USER_EMAIL));
            assertEquals(1, b.all("#consents tr[data-client='ext-app']").size());
            assertEquals(1, b.all("#families tr[data-client='ext-app']").size());
            assertTrue(b.text("#activity").contains("consent.granted"), b.text("#activity"));
            b.check("account page (en)", "account-en");

            // 5. revoke the consent: it is gone, and so is the refresh-token family
            b.find("#consents tr[data-client='ext-app'] button").click();
            b.await(d -> b.all("#consents tr[data-client='ext-app']").isEmpty());
            assertEquals("You have not allowed any application.", b.text("#consents p"));
            assertTrue(b.all("#families tr[data-client='ext-app']").isEmpty());
            b.screenshot("account-after-revoke-en");

            // 6. the application's next refresh fails
            Map<String, Object> refreshed = token(Map.of("grant_type", "refresh_token", "refresh_token", refresh,
                    "client_id", "ext-app"));
            assertEquals(400, refreshed.get("_status"), refreshed::toString);
            assertEquals("invalid_grant", refreshed.get("error"), refreshed::toString);

            // audited with the user as the actor
            AuditEntry revoked = fx.audit("consent.revoked").getLast();
            assertEquals(USER_SUB, revoked.subject());
            assertTrue(revoked.details().contains("\"actor\":\"user:"), revoked.details());
            assertEquals("ext-app", revoked.clientId());
            assertFalse(fx.audit("token.revoked").stream().noneMatch(e -> e.details().contains("consent_revoked")));

            // 7. signing out of the account page
            b.find("#account .bar button").click();
            b.await(d -> d.getTitle().equals("Signed out"));
            b.check("signed out (en)", "signed-out-en");
        }
    }

    @Test
    void loginAndAccountPagesInGerman() {
        try (BrowserHarness b = new BrowserHarness("de-DE,de")) {
            // Accept-Language: German chooser; an unknown e-mail domain shows the chooser again with a notice
            CodeVerifier v = new CodeVerifier();
            b.open(authorizeUrl(v, ""));
            assertEquals("Bei Acme <Corp> anmelden", b.text("h1"));
            assertEquals("de", b.find("html").getAttribute("lang"));
            hrd(b, "zoe.agent@unknown.example"); // (the e-mail field's own validation refuses a non-ASCII local part)
            b.await(d -> !b.all("p.notice").isEmpty());
            assertTrue(b.text("p.notice").contains("keine Anmeldung eingerichtet"), b.text("p.notice"));
            assertEquals("zoe.agent@unknown.example", b.find("#email").getAttribute("value"));
            b.check("login chooser, unknown domain (de)", "login-chooser-de");

            // picking a connector from the list; the consent page in German, built-in scope descriptions translated
            fx.enqueue("oauth2/default", "00u.zoë-agent.owner", Map.of("email", "zoe@okta.example", "groups", List.of("engineers")));
            b.find("ul.choices a[href*='connector=okta']").click();
            b.await(d -> d.getTitle().equals("Zugriff erlauben?"));
            assertTrue(b.text("#consent").contains("möchte in Ihrem Namen handeln"), b.text("#consent"));
            b.check("consent (de)", "consent-de");
            b.find("button[value=deny]").click();
            b.awaitUrl(clientRedirect);
            assertEquals("access_denied", query(b.driver.getCurrentUrl()).get("error"));

            // ui_locales wins over Accept-Language (OIDC Core §3.1.2.1)
            b.open(authorizeUrl(new CodeVerifier(), "&ui_locales=en"));
            b.await(d -> d.getTitle().equals("Allow access?"));

            // an error page: the request id in the footer and in the text
            b.open(fx.issuer() + "/authorize?client_id=no.such.client&response_type=code");
            assertEquals("Anmeldung nicht möglich", b.text("h1"));
            String requestId = b.text("footer code");
            assertFalse(requestId.isBlank());
            assertEquals(requestId, b.text("#error .hint code"));
            b.check("error page (de)", "error-de");

            // the account page in German
            b.open(fx.issuer() + "/account");
            fx.enqueue("oauth2/default", "00u.zoë-agent.owner", Map.of("email", "zoe@okta.example", "groups", List.of("engineers")));
            hrd(b, "zoe@okta.example");
            b.awaitUrl(fx.issuer() + "/account");
            b.await(d -> d.getTitle().equals("Ihr Konto"));
            assertTrue(b.text("#activity").contains("consent.denied"), b.text("#activity"));
            b.check("account page (de)", "account-de");
        }
    }

    static URI uri(String s) {
        return URI.create(s);
    }
}
