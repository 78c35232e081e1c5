package dev.deputy.broker.authorize;

import com.nimbusds.oauth2.sdk.pkce.CodeChallenge;
import com.nimbusds.oauth2.sdk.pkce.CodeChallengeMethod;
import com.nimbusds.oauth2.sdk.pkce.CodeVerifier;
import dev.deputy.broker.authorize.AuthorizeErrors.PageError;
import dev.deputy.broker.authorize.AuthorizeErrors.RedirectError;
import dev.deputy.broker.federation.AuthRequest;
import dev.deputy.broker.federation.FedFixture;
import dev.deputy.broker.tenant.Tenant;
import dev.deputy.broker.tenant.Tenants;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static dev.deputy.broker.federation.FedFixture.RESOURCE;
import static dev.deputy.broker.federation.FedFixture.TENANT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The authorization endpoint's pieces on their own, each error branch with its exact code and reason:
 * {@link AuthorizeRequestValidator} (page errors before redirect errors) and {@link LoginFlow#homeRealm}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AuthorizePiecesTest {
    @TempDir
    static Path dir;
    FedFixture fx;
    Tenant tenant;
    AuthorizeRequestValidator validator;

    @BeforeAll
    void start() {
        fx = new FedFixture(dir);
        tenant = fx.bean(Tenants.class).find(TENANT).orElseThrow();
        validator = fx.bean(AuthorizeRequestValidator.class);
    }

    @AfterAll
    void stop() {
        fx.close();
    }

    Map<String, List<String>> params(String... kv) {
        Map<String, List<String>> p = new HashMap<>();
        p.put("response_type", List.of("code"));
        p.put("client_id", List.of("ext-app"));
        p.put("redirect_uri", List.of("http://127.0.0.1:4711/callback"));
        p.put("code_challenge", List.of(CodeChallenge.compute(CodeChallengeMethod.S256, new CodeVerifier()).getValue()));
        p.put("code_challenge_method", List.of("S256"));
        for (int i = 0; i < kv.length; i += 2) {
            if (kv[i + 1] == null) {
                p.remove(kv[i]);
            } else {
                p.put(kv[i], List.of(kv[i + 1]));
            }
        }
        return p;
    }

    String pageReason(Map<String, List<String>> p) {
        return assertThrows(PageError.class, () -> validator.target(tenant, p)).reason;
    }

    RedirectError redirect(Map<String, List<String>> p) {
        return assertThrows(RedirectError.class, () -> validator.validate(tenant, validator.target(tenant, p), p));
    }

    @Test
    void clientAndRedirectUriFailuresArePagesNeverRedirects() {
        assertEquals("missing_client_id", pageReason(params("client_id", null)));
        assertEquals("unknown_client", pageReason(params("client_id", "payments.settlement.reconciler")));
        assertEquals("redirect_uri_mismatch", pageReason(params("redirect_uri", "http://127.0.0.1:4711/callback/../evil")));
        assertEquals("redirect_uri_mismatch", pageReason(params("redirect_uri", "https://evil.example/callback")));
        // the inspector has two redirect URIs: omitting it is not allowed (OAuth 2.1 §2.3.2)
        assertEquals("missing_redirect_uri", pageReason(params("client_id", "mcp-inspector", "redirect_uri", null)));
        // one registered URI: it may be omitted, and the code is then not bound to a given one
        AuthorizeRequestValidator.Target t = validator.target(tenant, params("redirect_uri", null, "client_id", "conf-app"));
        assertEquals("https://conf.example/cb", t.redirectUri());
        assertFalse(t.redirectUriGiven());
    }

    @Test
    void everythingElseGoesBackToTheClientWithItsCode() {
        RedirectError plain = redirect(params("code_challenge_method", "plain"));
        assertEquals("invalid_request", plain.error.getCode());
        assertEquals("pkce_method", plain.reason);
        assertEquals("pkce_missing", redirect(params("code_challenge", null)).reason);
        assertEquals("pkce_malformed", redirect(params("code_challenge", "short")).reason);
        assertEquals("unsupported_response_type", redirect(params("response_type", "token")).error.getCode());
        assertEquals("response_mode", redirect(params("response_mode", "fragment")).reason);
        assertEquals("request_not_supported", redirect(params("request", "eyJ.x.y")).error.getCode());
        assertEquals("request_uri_not_supported", redirect(params("request_uri", "urn:x")).error.getCode());
        assertEquals("invalid_target", redirect(params("resource", "https://unknown.example/mcp")).error.getCode());
        assertEquals("unknown_actor", redirect(params("requested_actor", "agt_zoë-agent")).reason);
        // a value the parser quotes in its message: still a redirect error (Nimbus would refuse the raw description)
        RedirectError odd = redirect(params("response_type", "code\" <x>", "scope", "a\"b\\c"));
        assertTrue(odd.error.getDescription() == null || !odd.error.getDescription().matches(".*[\"\\\\].*"),
                odd.error.getDescription());
        Map<String, List<String>> repeated = params();
        repeated.put("state", List.of("a", "b"));
        assertEquals("repeated_parameter", redirect(repeated).reason);
    }

    @Test
    void aValidRequestKeepsStateAndUiLocalesAsSent() {
        Map<String, List<String>> p = params("state", "  x y  ", "scope", "tools:read", "resource", RESOURCE,
                "ui_locales", "de-AT en", "login_hint", "jonathan.christopher.williams@kc.example");
        AuthRequest r = validator.validate(tenant, validator.target(tenant, p), p);
        assertEquals("  x y  ", r.state());
        assertEquals("de-AT en", r.uiLocales());
        assertEquals(List.of("tools:read"), r.scopes());
        assertEquals("mcp", r.resourceId());
        assertTrue(r.redirectUriGiven());
    }

    @Test
    void homeRealmDiscoveryByPickThenEmailDomainThenDefault() {
        LoginFlow login = fx.bean(LoginFlow.class);
        assertEquals("keycloak", login.homeRealm(tenant, "jonathan.christopher.williams@kc.example", null).id());
        assertEquals("auth0", login.homeRealm(tenant, "zoe@AUTH0.example", null).id());
        assertEquals("entra", login.homeRealm(tenant, "x@kc.example", "entra").id());
        // unknown domain: the tenant's default (okta); no hint: the default too
        assertEquals("okta", login.homeRealm(tenant, "zoë@unknown.example", null).id());
        assertEquals("okta", login.homeRealm(tenant, null, null).id());
        RedirectError e = assertThrows(RedirectError.class, () -> login.homeRealm(tenant, null, "no.such.connector"));
        assertEquals("unknown_connector", e.reason);
    }
}
