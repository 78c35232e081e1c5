package dev.deputy.broker.console;

import com.nimbusds.oauth2.sdk.pkce.CodeChallenge;
import com.nimbusds.oauth2.sdk.pkce.CodeChallengeMethod;
import com.nimbusds.oauth2.sdk.pkce.CodeVerifier;
import com.nimbusds.oauth2.sdk.util.URLUtils;
import dev.deputy.broker.audit.AuditEntry;
import dev.deputy.broker.authorize.ConsentStore;
import dev.deputy.broker.federation.FedFixture;
import dev.deputy.broker.federation.FedFixture.Browser;
import dev.deputy.broker.federation.UserStore;
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

import static dev.deputy.broker.federation.FedFixture.CLIENT_REDIRECT;
import static dev.deputy.broker.federation.FedFixture.RESOURCE;
import static dev.deputy.broker.federation.FedFixture.TENANT;
import static dev.deputy.broker.federation.FedFixture.query;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The account page and the login pages over HTTP: the account session is its own (cookie path, no application
 * login from it), forged or foreign forms change nothing and are audited once, the security headers, the language
 * choice and the branding style sheet.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AccountPageHttpTest {
    @TempDir
    static Path dir;
    FedFixture fx;

    @BeforeAll
    void start() {
        fx = new FedFixture(dir, """
                branding:
                  primary_color: "#0B5394"
                  text_color: "#101010"
                """);
    }

    @AfterAll
    void stop() {
        fx.close();
    }

    /** Signs in to the account page (okta is the fixture's default connector); returns the page. */
    HttpResponse<String> signIn(Browser b, String sub, String email) {
        fx.enqueue("oauth2/default", sub, Map.of("email", email, "groups", List.of("engineers")));
        HttpResponse<String> r = b.follow(fx.issuer() + "/account", "http://never/");
        assertEquals(200, r.statusCode(), r.body());
        return r;
    }

    static String csrf(String body) {
        return body.replaceAll("(?s).*?name=\"csrf\" value=\"([^\"]+)\".*", "$1");
    }

    /** An external-app consent for {@code sub} through the normal login + consent form. */
    void consentFor(Browser b, String sub, String email) {
        fx.enqueue("oauth2/default", sub, Map.of("email", email, "groups", List.of("engineers")));
        Map<String, List<String>> p = new LinkedHashMap<>();
        p.put("response_type", List.of("code"));
        p.put("client_id", List.of("ext-app"));
        p.put("redirect_uri", List.of(CLIENT_REDIRECT));
        p.put("code_challenge", List.of(CodeChallenge.compute(CodeChallengeMethod.S256, new CodeVerifier()).getValue()));
        p.put("code_challenge_method", List.of("S256"));
        p.put("scope", List.of("tools:read"));
        p.put("resource", List.of(RESOURCE));
        HttpResponse<String> page = b.follow(fx.issuer() + "/authorize?" + URLUtils.serializeParameters(p), CLIENT_REDIRECT);
        assertEquals(200, page.statusCode(), page.body());
        HttpResponse<String> allowed = b.postForm(fx.issuer() + "/consent", Map.of("csrf", csrf(page.body()), "decision", "allow"));
        assertEquals(302, allowed.statusCode(), allowed.body());
        assertTrue(query(allowed.headers().firstValue("Location").orElseThrow()).containsKey("code"));
    }

    @Test
    void signedOutTheAccountPageStartsTheUpstreamLoginAndItsSessionIsItsOwn() {
        Browser b = new Browser();
        HttpResponse<String> first = b.get(fx.issuer() + "/account");
        assertEquals(302, first.statusCode());
        assertTrue(first.headers().firstValue("Location").orElseThrow().startsWith(fx.issuer("oauth2/default")));
        HttpResponse<String> page = signIn(b, "00u.account.only", "account.only@okta.example");
        assertTrue(page.body().contains("account.only@okta.example"));
        assertEquals(PageSupport.CSP, page.headers().firstValue("Content-Security-Policy").orElseThrow());
        assertEquals("DENY", page.headers().firstValue("X-Frame-Options").orElseThrow());
        assertEquals("no-store", page.headers().firstValue("Cache-Control").orElseThrow());
        assertFalse(page.body().contains("<script>") || page.body().contains("style="), "no inline script or style");
        // the account session does not sign the browser in to applications: prompt=none → login_required
        Map<String, List<String>> p = new LinkedHashMap<>();
        p.put("response_type", List.of("code"));
        p.put("client_id", List.of("mcp-inspector"));
        p.put("redirect_uri", List.of(CLIENT_REDIRECT));
        p.put("code_challenge", List.of(CodeChallenge.compute(CodeChallengeMethod.S256, new CodeVerifier()).getValue()));
        p.put("code_challenge_method", List.of("S256"));
        p.put("prompt", List.of("none"));
        HttpResponse<String> none = b.get(fx.issuer() + "/authorize?" + URLUtils.serializeParameters(p));
        assertEquals("login_required", query(none.headers().firstValue("Location").orElseThrow()).get("error"));
    }

    @Test
    void forgedOrForeignFormsChangeNothingAndAreAuditedOnce() {
        Browser b = new Browser();
        consentFor(b, "00u.payments.settlement.reconciler", "payments.settlement.reconciler@okta.example");
        String userId = fx.bean(UserStore.class).findLinked(TENANT, "okta", fx.issuer("oauth2/default"),
                "00u.payments.settlement.reconciler").orElseThrow().id();
        HttpResponse<String> page = signIn(b, "00u.payments.settlement.reconciler", "payments.settlement.reconciler@okta.example");
        assertTrue(page.body().contains("data-client=\"ext-app\""), page.body());

        int before = fx.audit("consent.revoked").size();
        HttpResponse<String> forged = b.postForm(fx.issuer() + "/account/consents/revoke",
                Map.of("csrf", "forged", "client", "ext-app", "resource", "mcp"));
        assertEquals(403, forged.statusCode());
        assertEquals(1, fx.bean(ConsentStore.class).list(TENANT, userId).size(), "nothing changed");
        List<AuditEntry> entries = fx.audit("consent.revoked");
        assertEquals(before + 1, entries.size());
        assertEquals("failure", entries.getLast().outcome());
        assertTrue(entries.getLast().details().contains("csrf_mismatch"), entries.getLast().details());

        // another browser without the account session: the same form is refused too
        HttpResponse<String> foreign = new Browser().postForm(fx.issuer() + "/account/consents/revoke",
                Map.of("csrf", csrf(page.body()), "client", "ext-app", "resource", "mcp"));
        assertEquals(403, foreign.statusCode());
        assertEquals(1, fx.bean(ConsentStore.class).list(TENANT, userId).size());

        // a family id that is not this user's: 404, audited, nothing changes
        HttpResponse<String> other = b.postForm(fx.issuer() + "/account/families/revoke",
                Map.of("csrf", csrf(page.body()), "family", "fam_<script>alert(1)</script>"));
        assertEquals(404, other.statusCode());
        assertFalse(other.body().contains("<script>alert"));
        assertTrue(fx.audit("token.revoked").getLast().details().contains("not_found"));

        // the real form works: 303 back to the page, the consent is gone, audited with the user as actor
        HttpResponse<String> ok = b.postForm(fx.issuer() + "/account/consents/revoke",
                Map.of("csrf", csrf(page.body()), "client", "ext-app", "resource", "mcp"));
        assertEquals(303, ok.statusCode(), ok.body());
        assertEquals(fx.issuer() + "/account", ok.headers().firstValue("Location").orElseThrow());
        assertTrue(fx.bean(ConsentStore.class).list(TENANT, userId).isEmpty());
        assertTrue(fx.audit("consent.revoked").getLast().details().contains("\"actor\":\"user:" + userId + "\""));
    }

    @Test
    void languageFromUiLocalesThenAcceptLanguage() {
        String url = fx.issuer() + "/authorize?client_id=no.such.client";
        HttpResponse<String> de = new Browser().send(HttpRequest.newBuilder(URI.create(url))
                .header("Accept-Language", "fr-CH, de;q=0.9, en;q=0.5").GET().build());
        assertEquals(400, de.statusCode());
        assertTrue(de.body().contains("<html lang=\"de\"") && de.body().contains("Anmeldung nicht möglich"), de.body());
        HttpResponse<String> en = new Browser().send(HttpRequest.newBuilder(URI.create(url + "&ui_locales=en-GB%20de"))
                .header("Accept-Language", "de").GET().build());
        assertTrue(en.body().contains("Cannot sign in"), en.body());
        HttpResponse<String> junk = new Browser().send(HttpRequest.newBuilder(URI.create(url))
                .header("Accept-Language", ";;;q=x,\u00e9").GET().build());
        assertEquals(400, junk.statusCode());
        assertTrue(junk.body().contains("Cannot sign in"), junk.body());
    }

    @Test
    void brandingStyleSheetAndAssets() {
        HttpResponse<String> css = new Browser().get(fx.issuer() + "/branding.css");
        assertEquals(200, css.statusCode());
        assertEquals(":root{--brand:#0B5394;--page-fg:#101010;}\n", css.body());
        assertTrue(css.headers().firstValue("Content-Type").orElseThrow().startsWith("text/css"));
        HttpResponse<String> page = new Browser().get(fx.issuer() + "/authorize?client_id=no.such.client");
        assertTrue(page.body().contains("href=\"/t/acme/branding.css\""), page.body());
        assertTrue(page.body().contains("Acme &lt;Corp&gt;"), page.body());
        HttpResponse<String> sheet = new Browser().get(fx.url() + "/assets/deputy.css");
        assertEquals(200, sheet.statusCode());
        assertTrue(sheet.body().contains("--brand"));
        assertEquals(200, new Browser().get(fx.url() + "/assets/deputy.js").statusCode());
    }
}
