package dev.deputy.broker.authorize;

import com.nimbusds.jwt.SignedJWT;
import com.nimbusds.oauth2.sdk.AuthorizationCode;
import com.nimbusds.oauth2.sdk.AuthorizationCodeGrant;
import com.nimbusds.oauth2.sdk.RefreshTokenGrant;
import com.nimbusds.oauth2.sdk.TokenRequest;
import com.nimbusds.oauth2.sdk.auth.ClientSecretBasic;
import com.nimbusds.oauth2.sdk.auth.Secret;
import com.nimbusds.oauth2.sdk.id.ClientID;
import com.nimbusds.oauth2.sdk.pkce.CodeChallenge;
import com.nimbusds.oauth2.sdk.pkce.CodeChallengeMethod;
import com.nimbusds.oauth2.sdk.pkce.CodeVerifier;
import com.nimbusds.oauth2.sdk.token.RefreshToken;
import com.nimbusds.oauth2.sdk.util.URLUtils;
import dev.deputy.broker.audit.AuditEntry;
import dev.deputy.broker.audit.AuditLog;
import dev.deputy.broker.audit.RequestMeta;
import dev.deputy.broker.clientauth.RegisteredClientAuthenticator;
import dev.deputy.broker.federation.ConnectorStore;
import dev.deputy.broker.federation.FedFixture;
import dev.deputy.broker.federation.FedFixture.Browser;
import dev.deputy.broker.federation.User;
import dev.deputy.broker.federation.UserStore;
import dev.deputy.broker.grant.authcode.AuthorizationCodeGrantHandler;
import dev.deputy.broker.grant.refresh.RefreshTokenGrantHandler;
import dev.deputy.broker.oauth.AuthenticatedClient;
import dev.deputy.broker.oauth.GrantHandler;
import dev.deputy.broker.oauth.OAuthException;
import dev.deputy.broker.oauth.TokenContext;
import dev.deputy.broker.oauth.TokenResult;
import dev.deputy.broker.tenant.Tenant;
import dev.deputy.broker.tenant.Tenants;
import dev.deputy.broker.token.Revocations;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static dev.deputy.broker.federation.FedFixture.CLIENT_REDIRECT;
import static dev.deputy.broker.federation.FedFixture.ENTRA_ID;
import static dev.deputy.broker.federation.FedFixture.ENTRA_TID;
import static dev.deputy.broker.federation.FedFixture.OTHER_TID;
import static dev.deputy.broker.federation.FedFixture.RESOURCE;
import static dev.deputy.broker.federation.FedFixture.TENANT;
import static dev.deputy.broker.federation.FedFixture.query;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Human login end to end over HTTP against a real OIDC provider (mock-oauth2-server) playing Okta, Auth0,
 * Entra and Keycloak; the token step calls the grant handlers directly (the token endpoint pipeline is
 * another branch's work).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class FederatedLoginHttpTest {
    @TempDir
    static Path dir;
    FedFixture fx;
    Tenant tenant;

    @BeforeAll
    void start() {
        fx = new FedFixture(dir);
        tenant = fx.bean(Tenants.class).find(TENANT).orElseThrow();
    }

    @AfterAll
    void stop() {
        fx.close();
    }

    // ------------------------------------------------------------------------------------------ helpers

    record Pkce(CodeVerifier verifier, String challenge) {
        static Pkce create() {
            CodeVerifier v = new CodeVerifier();
            return new Pkce(v, CodeChallenge.compute(CodeChallengeMethod.S256, v).getValue());
        }
    }

    String authorizeUrl(String clientId, Pkce pkce, Map<String, String> overrides) {
        Map<String, List<String>> p = new LinkedHashMap<>();
        p.put("response_type", List.of("code"));
        p.put("client_id", List.of(clientId));
        p.put("redirect_uri", List.of(CLIENT_REDIRECT));
        p.put("state", List.of("st-" + UUID.randomUUID()));
        p.put("code_challenge", List.of(pkce.challenge()));
        p.put("code_challenge_method", List.of("S256"));
        p.put("scope", List.of("tools:read tools:write admin"));
        p.put("resource", List.of(RESOURCE));
        overrides.forEach((k, v) -> {
            if (v == null) {
                p.remove(k);
            } else {
                p.put(k, List.of(v));
            }
        });
        return fx.url() + "/t/" + TENANT + "/authorize?" + URLUtils.serializeParameters(p);
    }

    /** Drives the browser from /authorize until the redirect to the client; returns that Location's query. */
    Map<String, String> login(Browser b, String url) {
        HttpResponse<String> r = b.follow(url, CLIENT_REDIRECT);
        assertEquals(302, r.statusCode(), () -> "expected a redirect to the client, got " + r.statusCode() + ": " + r.body());
        String loc = r.headers().firstValue("Location").orElseThrow();
        assertTrue(loc.startsWith(CLIENT_REDIRECT), loc);
        return query(loc);
    }

    Map<String, String> loginOk(Browser b, String url) {
        Map<String, String> q = login(b, url);
        assertNull(q.get("error"), () -> "login failed: " + q);
        return q;
    }

    AuthenticatedClient publicClient(String clientId) {
        return fx.bean(RegisteredClientAuthenticator.class)
                .authenticate(tenant, fx.issuer(), null, new ClientID(clientId), null).orElseThrow();
    }

    Map<String, Object> redeem(String clientId, String code, String redirect, CodeVerifier v, List<URI> resources) {
        TokenRequest tr = new TokenRequest.Builder(URI.create(fx.issuer() + "/token"), new ClientID(clientId),
                new AuthorizationCodeGrant(new AuthorizationCode(code), redirect == null ? null : URI.create(redirect), v))
                .resources(resources == null ? null : resources.toArray(URI[]::new)).build();
        return run(fx.bean(AuthorizationCodeGrantHandler.class), tr, publicClient(clientId));
    }

    Map<String, Object> refresh(String clientId, String rt, List<URI> resources) {
        TokenRequest tr = new TokenRequest.Builder(URI.create(fx.issuer() + "/token"), new ClientID(clientId),
                new RefreshTokenGrant(new RefreshToken(rt)))
                .resources(resources == null ? null : resources.toArray(URI[]::new)).build();
        return run(fx.bean(RefreshTokenGrantHandler.class), tr, publicClient(clientId));
    }

    Map<String, Object> run(GrantHandler h, TokenRequest tr, AuthenticatedClient client) {
        TokenResult r = h.handle(new TokenContext(tenant, fx.issuer(), tr, null, client, RequestMeta.INTERNAL));
        if (r.audit() != null) { // refresh rotation audits in its own transaction
            fx.bean(AuditLog.class).append(r.audit());
        }
        return r.body();
    }

    static String errorCode(Runnable r) {
        return assertThrows(OAuthException.class, r::run).error().getCode();
    }

    /** A handler's refusal: its error code, and the internal reason the front door audits from it. */
    static void assertRefused(String code, String reason, Runnable r) {
        OAuthException e = assertThrows(OAuthException.class, r::run);
        assertEquals(code, e.error().getCode());
        assertEquals(reason, e.auditReason());
    }

    boolean audited(String type, String reason) {
        return fx.audit(type).stream().anyMatch(e -> e.details() != null && e.details().contains("\"" + reason + "\""));
    }

    // ------------------------------------------------------------------------------------------ metadata

    @Test
    void metadataAdvertisesTheAuthorizationEndpoint() {
        HttpResponse<String> r = new Browser().get(fx.url() + "/.well-known/oauth-authorization-server/t/" + TENANT);
        assertEquals(200, r.statusCode());
        assertTrue(r.body().contains("\"authorization_endpoint\":\"" + fx.issuer() + "/authorize\""), r.body());
        assertTrue(r.body().contains("\"authorization_response_iss_parameter_supported\":true"), r.body());
        assertTrue(r.body().contains("\"response_types_supported\":[\"code\"]"), r.body());
        assertTrue(r.body().contains("\"response_modes_supported\":[\"query\"]"), r.body());
    }

    // ------------------------------------------------------------------------------------------ full flows

    @Test
    void oktaCodeFlowKeepsTheUpstreamSubjectAndReusesTheSession() throws Exception {
        Browser b = new Browser();
        Pkce pkce = Pkce.create();
        String sub = "00u1abcdEFGH2345ijk7";
        fx.enqueue("oauth2/default", sub, Map.of("email", "ada@okta.example", "name", "Ada", "groups", List.of("engineers")));
        String url = authorizeUrl("mcp-inspector", pkce, Map.of("login_hint", "ada@okta.example", "state", "s-okta"));
        // first hop: the broker sends the browser to the upstream IdP with its own PKCE, state and nonce
        HttpResponse<String> first = b.get(url);
        assertEquals(302, first.statusCode());
        String upstream = first.headers().firstValue("Location").orElseThrow();
        assertTrue(upstream.startsWith(fx.issuer("oauth2/default")), upstream);
        assertTrue(upstream.contains("login_hint=ada%40okta.example") && upstream.contains("code_challenge_method=S256"), upstream);
        assertTrue(upstream.contains("redirect_uri=" + URLUtils.serializeParameters(Map.of("x", List.of(fx.issuer() + "/callback"))).substring(2)), upstream);

        Map<String, String> q = login(b, url);
        assertEquals("s-okta", q.get("state"));
        assertEquals(fx.issuer(), q.get("iss")); // RFC 9207
        Map<String, Object> tokens = redeem("mcp-inspector", q.get("code"), CLIENT_REDIRECT, pkce.verifier(), null);
        SignedJWT at = SignedJWT.parse((String) tokens.get("access_token"));
        assertEquals(sub, at.getJWTClaimsSet().getSubject()); // byte for byte
        Map<String, Object> subId = at.getJWTClaimsSet().getJSONObjectClaim("sub_id");
        assertEquals(Map.of("format", "iss_sub", "iss", fx.issuer("oauth2/default"), "sub", sub), subId);
        assertEquals(List.of(RESOURCE), at.getJWTClaimsSet().getAudience());
        assertEquals("tools:read tools:write", at.getJWTClaimsSet().getStringClaim("scope")); // admin not in the role
        assertEquals("ada@okta.example", at.getJWTClaimsSet().getStringClaim("email"));
        assertEquals(List.of("engineers"), at.getJWTClaimsSet().getStringListClaim("groups"));
        assertEquals("mcp-inspector", at.getJWTClaimsSet().getStringClaim("client_id"));
        assertTrue(tokens.get("refresh_token").toString().startsWith("drt_"));

        User u = fx.bean(UserStore.class).findLinked(TENANT, "okta", fx.issuer("oauth2/default"), sub).orElseThrow();
        assertEquals(List.of("developer"), u.roles());
        assertEquals("ada@okta.example", u.email());

        // same browser: the session skips the upstream round trip
        Pkce p2 = Pkce.create();
        HttpResponse<String> again = b.get(authorizeUrl("mcp-inspector", p2, Map.of("state", "s-2")));
        assertEquals(302, again.statusCode());
        String loc = again.headers().firstValue("Location").orElseThrow();
        assertTrue(loc.startsWith(CLIENT_REDIRECT), loc);
        assertEquals("s-2", query(loc).get("state"));
        Map<String, Object> t2 = redeem("mcp-inspector", query(loc).get("code"), CLIENT_REDIRECT, p2.verifier(), null);
        assertEquals(sub, SignedJWT.parse((String) t2.get("access_token")).getJWTClaimsSet().getSubject());

        // logout ends it: the next authorize goes upstream again
        assertEquals(200, b.get(fx.issuer() + "/logout").statusCode());
        HttpResponse<String> after = b.get(authorizeUrl("mcp-inspector", Pkce.create(), Map.of()));
        assertTrue(after.headers().firstValue("Location").orElseThrow().startsWith(fx.issuer("oauth2/default")));
    }

    /**
     * Issue 13: upstream subs the former secret guard took for JWTs (three dot-separated 8+ character labels) or
     * that carry unicode, spaces, slashes and pipes log in, get a code and a token over HTTP, and every step has its
     * entry naming the sub byte for byte (login.succeeded, user.created, authorize.code_issued, token.issued).
     */
    @Test
    void hostileUpstreamSubjectsLogInWithTheirEntries() throws Exception {
        for (String sub : List.of("jonathan.christopher.williams", "00u/ä+ |x", "payments.settlement.reconciler")) {
            Browser b = new Browser();
            Pkce pkce = Pkce.create();
            fx.enqueue("oauth2/default", sub, Map.of("email", "jonathan@okta.example", "groups", List.of("engineers")));
            Map<String, String> q = loginOk(b, authorizeUrl("mcp-inspector", pkce, Map.of("login_hint", "jonathan@okta.example")));
            // the code is redeemed at the token endpoint over HTTP (a public client with PKCE)
            HttpResponse<String> tr = b.postForm(fx.issuer() + "/token", Map.of("grant_type", "authorization_code",
                    "code", q.get("code"), "redirect_uri", CLIENT_REDIRECT, "client_id", "mcp-inspector",
                    "code_verifier", pkce.verifier().getValue(), "resource", RESOURCE));
            assertNotEquals(500, tr.statusCode(), tr.body());
            assertEquals(200, tr.statusCode(), tr.body());
            String at = (String) new com.fasterxml.jackson.databind.ObjectMapper().readValue(tr.body(), Map.class).get("access_token");
            assertEquals(sub, SignedJWT.parse(at).getJWTClaimsSet().getSubject());
            String iss = fx.issuer("oauth2/default");
            for (String type : List.of("login.succeeded", "user.created", "authorize.code_issued", "token.issued")) {
                assertTrue(fx.audit(type).stream().anyMatch(e -> sub.equals(e.subject()) && iss.equals(e.subjectIss())),
                        () -> type + " names " + sub);
            }
            assertEquals(200, b.get(fx.issuer() + "/logout").statusCode());
            assertTrue(fx.audit("logout").stream().anyMatch(e -> sub.equals(e.subject())), "logout names " + sub);
        }
    }

    /** RFC 6749 §4.1.2: state is returned exactly as received (spaces, unicode, punctuation), on success too. */
    @Test
    void stateIsEchoedByteForByteOnTheSuccessRedirect() {
        Browser b = new Browser();
        fx.enqueue("oauth2/default", "00uState", Map.of("email", "s@okta.example", "groups", List.of("engineers")));
        String state = "  lead & trail \u00e9\u6f22 +=/?  ";
        Map<String, String> q = loginOk(b, authorizeUrl("mcp-inspector", Pkce.create(),
                Map.of("login_hint", "s@okta.example", "state", state)));
        assertEquals(state, q.get("state"));
        // the session path (no upstream round trip) answers the same
        HttpResponse<String> again = b.get(authorizeUrl("mcp-inspector", Pkce.create(), Map.of("state", " x ")));
        assertEquals(302, again.statusCode());
        assertEquals(" x ", query(again.headers().firstValue("Location").orElseThrow()).get("state"));
    }

    @Test
    void sessionCookieAttributes() {
        Browser b = new Browser();
        fx.enqueue("oauth2/default", "00uCookie", Map.of("email", "c@okta.example", "groups", List.of("engineers")));
        HttpResponse<String> first = b.get(authorizeUrl("mcp-inspector", Pkce.create(), Map.of()));
        HttpResponse<String> upstream = b.get(first.headers().firstValue("Location").orElseThrow());
        HttpResponse<String> callback = b.get(upstream.headers().firstValue("Location").orElseThrow());
        String session = callback.headers().allValues("Set-Cookie").stream().filter(c -> c.startsWith("deputy_session="))
                .findFirst().orElseThrow();
        // attribute names are case-insensitive (RFC 6265 §5.2); Netty's encoder (Micronaut's Cookie) writes "HTTPOnly"
        String attrs = session.toLowerCase(java.util.Locale.ROOT);
        assertTrue(attrs.contains("; httponly") && attrs.contains("samesite=lax") && session.contains("Path=/t/acme/"), session);
        assertFalse(session.contains("Secure"), "http public URL: no Secure");
    }

    @Test
    void auth0TrailingSlashIssuerIsKeptInSubId() throws Exception {
        Browser b = new Browser();
        Pkce pkce = Pkce.create();
        String iss = fx.issuer("auth0") + "/";
        fx.enqueue("auth0", "auth0|65f1c0ffee", Map.of("iss", iss, "email", "bo@auth0.example", "groups", List.of("engineering")));
        Map<String, String> q = loginOk(b, authorizeUrl("mcp-inspector", pkce, Map.of("login_hint", "bo@auth0.example")));
        SignedJWT at = SignedJWT.parse((String) redeem("mcp-inspector", q.get("code"), CLIENT_REDIRECT, pkce.verifier(), null)
                .get("access_token"));
        assertEquals("auth0|65f1c0ffee", at.getJWTClaimsSet().getSubject());
        assertEquals(iss, at.getJWTClaimsSet().getJSONObjectClaim("sub_id").get("iss"));
    }

    @Test
    void entraAllowedTenantSucceedsOtherTenantIsRejected() throws Exception {
        String entraIss = fx.idpBase() + "/" + ENTRA_TID + "/v2.0";
        Browser b = new Browser();
        Pkce pkce = Pkce.create();
        fx.enqueue(ENTRA_ID, "AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ", Map.of("iss", entraIss, "tid", ENTRA_TID,
                "oid", "00000000-0000-0000-66f3-3332eca7ea81", "email", "cy@entra.example",
                "groups", List.of("b0c1d2e3-0000-4000-8000-000000000001")));
        Map<String, String> q = loginOk(b, authorizeUrl("mcp-inspector", pkce, Map.of("login_hint", "cy@entra.example")));
        SignedJWT at = SignedJWT.parse((String) redeem("mcp-inspector", q.get("code"), CLIENT_REDIRECT, pkce.verifier(), null)
                .get("access_token"));
        assertEquals("AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ", at.getJWTClaimsSet().getSubject());
        assertEquals(entraIss, at.getJWTClaimsSet().getJSONObjectClaim("sub_id").get("iss"));
        assertEquals("tools:read tools:write", at.getJWTClaimsSet().getStringClaim("scope"));

        fx.enqueue(ENTRA_ID, "evil", Map.of("iss", fx.idpBase() + "/" + OTHER_TID + "/v2.0", "tid", OTHER_TID));
        Map<String, String> denied = login(new Browser(), authorizeUrl("mcp-inspector", Pkce.create(),
                Map.of("login_hint", "x@entra.example", "state", "s-entra")));
        assertEquals("access_denied", denied.get("error"));
        assertEquals("upstream login failed: tenant_not_allowed", denied.get("error_description"));
        assertEquals("s-entra", denied.get("state"));
        assertEquals(fx.issuer(), denied.get("iss"));
        assertTrue(audited("login.failed", "tenant_not_allowed"));
    }

    @Test
    void keycloakRealmRolesMapToScopes() throws Exception {
        Pkce pkce = Pkce.create();
        fx.enqueue("realms/acme", "f:3a1c:kc-user", Map.of("email", "di@kc.example",
                "realm_access", Map.of("roles", List.of("deputy-dev")), "scope", "openid"));
        Map<String, String> q = loginOk(new Browser(), authorizeUrl("mcp-inspector", pkce,
                Map.of("login_hint", "di@kc.example", "scope", "tools:read")));
        SignedJWT at = SignedJWT.parse((String) redeem("mcp-inspector", q.get("code"), CLIENT_REDIRECT, pkce.verifier(), null)
                .get("access_token"));
        assertEquals("f:3a1c:kc-user", at.getJWTClaimsSet().getSubject());
        assertEquals("tools:read", at.getJWTClaimsSet().getStringClaim("scope"));
    }

    // ------------------------------------------------------------------------------------------ rejections at /authorize

    Map<String, String> authorizeError(Map<String, String> overrides) {
        HttpResponse<String> r = new Browser().get(authorizeUrl("mcp-inspector", Pkce.create(), overrides));
        assertEquals(302, r.statusCode(), r.body());
        Map<String, String> q = query(r.headers().firstValue("Location").orElseThrow());
        assertTrue(r.headers().firstValue("Location").orElseThrow().startsWith(CLIENT_REDIRECT));
        assertEquals(fx.issuer(), q.get("iss"), "RFC 9207 iss on errors too");
        return q;
    }

    @Test
    void pkceMissingOrPlainIsRefusedWithARedirect() {
        Map<String, String> q = authorizeError(mapOf("code_challenge", null, "code_challenge_method", null, "state", "s-pk"));
        assertEquals("invalid_request", q.get("error"));
        assertEquals("s-pk", q.get("state"));
        assertTrue(audited("authorize.rejected", "pkce_missing"));
        Map<String, String> plain = authorizeError(Map.of("code_challenge_method", "plain"));
        assertEquals("invalid_request", plain.get("error"));
        assertTrue(audited("authorize.rejected", "pkce_method"));
        Map<String, String> noMethod = authorizeError(mapOf("code_challenge_method", null));
        assertEquals("invalid_request", noMethod.get("error"), "a missing method means plain (RFC 7636 §4.3)");
    }

    @Test
    void redirectUriMismatchAndUnknownClientShowAPageAndNeverRedirect() {
        for (Map<String, String> o : List.of(Map.of("redirect_uri", "http://127.0.0.1:33418/other"),
                Map.of("redirect_uri", "https://evil.example/callback"),
                Map.of("redirect_uri", "http://localhost:33418/callback"),
                Map.of("client_id", "nobody"))) {
            HttpResponse<String> r = new Browser().get(authorizeUrl(o.getOrDefault("client_id", "mcp-inspector"), Pkce.create(), o));
            assertEquals(400, r.statusCode(), o.toString());
            assertTrue(r.headers().firstValue("Location").isEmpty());
            assertTrue(r.headers().firstValue("Content-Type").orElseThrow().startsWith("text/html"));
            assertEquals("DENY", r.headers().firstValue("X-Frame-Options").orElseThrow());
        }
        assertTrue(audited("authorize.rejected", "redirect_uri_mismatch"));
        assertTrue(audited("authorize.rejected", "unknown_client"));
        // registered URI with its own query: the query is kept (RFC 6749 §3.1.2) and an exact match works
        HttpResponse<String> ok = new Browser().get(authorizeUrl("mcp-inspector", Pkce.create(),
                Map.of("redirect_uri", "https://app.example/cb?x=1", "response_type", "token")));
        assertTrue(ok.headers().firstValue("Location").orElseThrow().startsWith("https://app.example/cb?x=1&error=unsupported_response_type"));
    }

    @Test
    void unknownResourceAndWrongResponseTypeRedirectWithTheirErrors() {
        assertEquals("invalid_target", authorizeError(Map.of("resource", "https://unknown.example/mcp")).get("error"));
        assertTrue(audited("authorize.rejected", "unknown_resource"));
        assertEquals("invalid_target", authorizeError(Map.of("resource", "not a uri#frag")).get("error"));
        assertEquals("unsupported_response_type", authorizeError(Map.of("response_type", "token")).get("error"));
        // trailing slash names the same resource (Resource.canonical)
        HttpResponse<String> r = new Browser().get(authorizeUrl("mcp-inspector", Pkce.create(), Map.of("resource", RESOURCE + "/")));
        assertTrue(r.headers().firstValue("Location").orElseThrow().startsWith(fx.issuer("oauth2/default")));
    }

    /** Issue 14: one request, one {@code authorize.rejected} entry with this error and reason, nothing else. */
    void oneRejection(int before, String error, String reason) {
        List<AuditEntry> all = fx.audit();
        assertEquals(before + 1, all.size(), () -> "entries: " + all.subList(before, all.size()).stream().map(AuditEntry::type).toList());
        AuditEntry e = all.get(all.size() - 1);
        assertEquals("authorize.rejected", e.type());
        assertTrue(e.details().contains("\"error\":\"" + error + "\""), e.details());
        assertTrue(e.details().contains("\"reason\":\"" + reason + "\""), e.details());
    }

    @Test
    void everyAuthorizeErrorBranchAnswersItsCodeWithExactlyOneEntry() {
        // the redirect form (RFC 6749 §4.1.2.1): error in the client's redirect, with state and iss
        Map<String, String[]> redirects = new LinkedHashMap<>();
        redirects.put("request_object", new String[]{"request_not_supported", "request", "eyJhbGciOiJub25lIn0.e30."});
        redirects.put("request_uri", new String[]{"request_uri_not_supported", "request_uri", "urn:ietf:params:oauth:request_uri:x"});
        redirects.put("unsupported_response_type", new String[]{"unsupported_response_type", "response_type", "token"});
        redirects.put("response_mode", new String[]{"invalid_request", "response_mode", "fragment"});
        redirects.put("pkce_missing", new String[]{"invalid_request", "code_challenge", null});
        redirects.put("pkce_method", new String[]{"invalid_request", "code_challenge_method", "plain"});
        redirects.put("pkce_malformed", new String[]{"invalid_request", "code_challenge", "short\"><zoë>"});
        redirects.put("unknown_actor", new String[]{"invalid_request", "requested_actor", "payments.settlement.reconciler"});
        redirects.put("unknown_resource", new String[]{"invalid_target", "resource", "https://unknown.example/mcp"});
        redirects.put("login_required", new String[]{"login_required", "prompt", "none"});
        redirects.forEach((reason, c) -> {
            int before = fx.audit().size();
            String state = "  jonathan.christopher.williams " + reason + " ";
            Map<String, String> o = new HashMap<>();
            o.put(c[1], c[2]);
            o.put("state", state);
            if (reason.equals("pkce_missing")) {
                o.put("code_challenge_method", null);
            }
            Map<String, String> q = authorizeError(o);
            assertEquals(c[0], q.get("error"), reason);
            assertEquals(state, q.get("state"), reason);
            oneRejection(before, c[0], reason);
        });
        // a repeated parameter (OAuth 2.1 §3.1), even with the same value
        int before = fx.audit().size();
        HttpResponse<String> rep = new Browser().get(authorizeUrl("mcp-inspector", Pkce.create(), Map.of())
                + "&scope=tools%3Aread&scope=tools%3Aread");
        assertEquals(302, rep.statusCode(), rep.body());
        assertEquals("invalid_request", query(rep.headers().firstValue("Location").orElseThrow()).get("error"));
        oneRejection(before, "invalid_request", "repeated_parameter");
        // the page (never a redirect): client or redirect URI not trustworthy
        Map<String, Map<String, String>> pages = new LinkedHashMap<>();
        pages.put("missing_client_id", mapOf("client_id", null));
        pages.put("unknown_client", Map.of("client_id", "zoë-agent"));
        pages.put("missing_redirect_uri", mapOf("redirect_uri", null));
        pages.put("redirect_uri_mismatch", Map.of("redirect_uri", "http://127.0.0.1:33418/callback\"><x>"));
        pages.forEach((reason, o) -> {
            int n = fx.audit().size();
            String url = authorizeUrl("mcp-inspector", Pkce.create(), o);
            HttpResponse<String> r = new Browser().get(url);
            assertEquals(400, r.statusCode(), reason);
            assertTrue(r.headers().firstValue("Location").isEmpty(), reason);
            assertTrue(r.headers().firstValue("Content-Type").orElseThrow().startsWith("text/html"), reason);
            oneRejection(n, "invalid_request", reason);
        });
    }

    // ------------------------------------------------------------------------------------------ rejections at the callback

    @Test
    void unknownOrReusedStateAtCallbackIsRefused() {
        HttpResponse<String> r = new Browser().get(fx.issuer() + "/callback?state=forged&code=abc");
        assertEquals(400, r.statusCode());
        assertTrue(r.headers().firstValue("Location").isEmpty());
        assertTrue(audited("login.failed", "state_mismatch"));

        // a real pending login, but the callback arrives in another browser (no binding cookie)
        Browser victim = new Browser();
        HttpResponse<String> first = victim.get(authorizeUrl("mcp-inspector", Pkce.create(), Map.of()));
        // (nothing enqueued: the upstream token endpoint is never reached)
        HttpResponse<String> upstream = victim.get(first.headers().firstValue("Location").orElseThrow());
        String callback = upstream.headers().firstValue("Location").orElseThrow();
        assertEquals(400, new Browser().get(callback).statusCode());
        // and the state was consumed: the right browser cannot use it either
        assertEquals(400, victim.get(callback).statusCode());
    }

    Map<String, String> upstreamFailure(String issuerId, Map<String, Object> claims) {
        fx.enqueue(issuerId, "00uBad", claims);
        return login(new Browser(), authorizeUrl("mcp-inspector", Pkce.create(), Map.of("state", "s-bad")));
    }

    @Test
    void badIdTokensAreRefusedAndAudited() {
        Map<String, String> q = upstreamFailure("oauth2/default", Map.of("nonce", "not-the-nonce"));
        assertEquals("access_denied", q.get("error"));
        assertEquals("s-bad", q.get("state"));
        assertTrue(audited("login.failed", "nonce_mismatch"));

        assertEquals("upstream login failed: issuer_mismatch",
                upstreamFailure("oauth2/default", Map.of("iss", fx.issuer("evil"))).get("error_description"));
        assertTrue(audited("login.failed", "issuer_mismatch"));

        assertEquals("upstream login failed: audience_mismatch",
                upstreamFailure("oauth2/default", Map.of("aud", List.of("someone-else"))).get("error_description"));
        assertTrue(audited("login.failed", "audience_mismatch"));

        fx.clock.advance(Duration.ofHours(2));
        try {
            assertEquals("upstream login failed: expired", upstreamFailure("oauth2/default", Map.of()).get("error_description"));
        } finally {
            fx.clock.reset();
        }
        assertTrue(audited("login.failed", "expired"));
    }

    // ------------------------------------------------------------------------------------------ consent

    @Test
    void externalClientConsentIsAskedStoredRevocableAndEscaped() throws Exception {
        Browser b = new Browser();
        fx.enqueue("oauth2/default", "00uConsent", Map.of("email", "eve@okta.example", "groups", List.of("engineers")));
        Pkce pkce = Pkce.create();
        HttpResponse<String> page = b.follow(authorizeUrl("ext-app", pkce, Map.of("state", "s-c")), CLIENT_REDIRECT);
        assertEquals(200, page.statusCode(), page.body());
        assertTrue(page.body().contains("External &lt;b&gt;App&lt;/b&gt;"), page.body());
        assertFalse(page.body().contains("<b>App</b>"));
        assertTrue(page.body().contains("127.0.0.1") && page.body().contains(RESOURCE) && page.body().contains("tools:write"));
        assertTrue(page.body().contains("Acme MCP &lt;tools&gt;"));
        String csrf = page.body().replaceAll("(?s).*name=\"csrf\" value=\"([^\"]+)\".*", "$1");

        // a forged form (wrong CSRF token) changes nothing
        assertEquals(400, b.postForm(fx.issuer() + "/consent", Map.of("csrf", "forged", "decision", "allow")).statusCode());
        HttpResponse<String> allowed = b.postForm(fx.issuer() + "/consent", Map.of("csrf", csrf, "decision", "allow"));
        assertEquals(302, allowed.statusCode(), allowed.body());
        Map<String, String> q = query(allowed.headers().firstValue("Location").orElseThrow());
        assertEquals("s-c", q.get("state"));
        redeem("ext-app", q.get("code"), CLIENT_REDIRECT, pkce.verifier(), null);
        assertFalse(fx.audit("consent.granted").isEmpty());
        // CSRF token is single use
        assertEquals(400, b.postForm(fx.issuer() + "/consent", Map.of("csrf", csrf, "decision", "allow")).statusCode());

        // stored: no consent page the second time
        HttpResponse<String> again = b.get(authorizeUrl("ext-app", Pkce.create(), Map.of()));
        assertEquals(302, again.statusCode());
        assertTrue(again.headers().firstValue("Location").orElseThrow().contains("code="));

        // listed through the admin API in its JSON style: snake_case, ISO-8601 times, every member present
        User u = fx.bean(UserStore.class).findLinked(TENANT, "okta", fx.issuer("oauth2/default"), "00uConsent").orElseThrow();
        HttpResponse<String> listed = b.send(HttpRequest.newBuilder(URI.create(fx.url() + "/admin/t/acme/consents?user="
                + URLEncoder.encode(u.id(), StandardCharsets.UTF_8))).header("Authorization", "Bearer " + fx.adminToken()).GET().build());
        assertEquals(200, listed.statusCode(), listed.body());
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> rows = (List<Map<String, Object>>) new com.fasterxml.jackson.databind.ObjectMapper()
                .readValue(listed.body(), Map.class).get("consents");
        assertEquals(1, rows.size(), listed.body());
        Map<String, Object> row = rows.get(0);
        assertEquals(List.of("tenant_id", "user_id", "client_id", "resource_id", "scopes", "granted_at"), List.copyOf(row.keySet()));
        assertEquals(TENANT, row.get("tenant_id"));
        assertEquals(u.id(), row.get("user_id"));
        assertEquals("ext-app", row.get("client_id"));
        assertEquals("mcp", row.get("resource_id"));
        assertTrue(((List<?>) row.get("scopes")).contains("tools:write"), listed.body());
        Instant grantedAt = Instant.parse((String) row.get("granted_at"));
        assertTrue(Duration.between(grantedAt, Instant.now()).abs().toMinutes() < 10, listed.body());
        assertFalse(listed.body().contains("grantedAt") || listed.body().contains("userId"), listed.body());

        // revoked through the admin API: asked again
        HttpResponse<String> del = b.send(HttpRequest.newBuilder(URI.create(fx.url() + "/admin/t/acme/consents/" + u.id()
                + "/ext-app/mcp")).header("Authorization", "Bearer " + fx.adminToken()).DELETE().build());
        assertEquals(204, del.statusCode(), del.body());
        assertFalse(fx.audit("consent.revoked").isEmpty());
        HttpResponse<String> asked = b.get(authorizeUrl("ext-app", Pkce.create(), Map.of("state", "s-d")));
        assertEquals(200, asked.statusCode());
        String csrf2 = asked.body().replaceAll("(?s).*name=\"csrf\" value=\"([^\"]+)\".*", "$1");
        HttpResponse<String> denied = b.postForm(fx.issuer() + "/consent", Map.of("csrf", csrf2, "decision", "deny"));
        Map<String, String> dq = query(denied.headers().firstValue("Location").orElseThrow());
        assertEquals("access_denied", dq.get("error"));
        assertEquals("s-d", dq.get("state"));
        assertEquals(fx.issuer(), dq.get("iss"));
        assertFalse(fx.audit("consent.denied").isEmpty());
    }

    // ------------------------------------------------------------------------------------------ grants

    record Issued(Pkce pkce, String code) {
    }

    Issued codeFor(String sub) {
        Browser b = new Browser();
        Pkce pkce = Pkce.create();
        fx.enqueue("oauth2/default", sub, Map.of("groups", List.of("engineers")));
        return new Issued(pkce, loginOk(b, authorizeUrl("mcp-inspector", pkce, Map.of())).get("code"));
    }

    @Test
    void codeIsBoundToClientRedirectVerifierAndResource() {
        Issued a = codeFor("00uG1");
        assertRefused("invalid_grant", "pkce_mismatch",
                () -> redeem("mcp-inspector", a.code(), CLIENT_REDIRECT, new CodeVerifier(), null));
        // the failed attempt consumed it: single use
        assertEquals("invalid_grant", errorCode(() -> redeem("mcp-inspector", a.code(), CLIENT_REDIRECT, a.pkce().verifier(), null)));

        Issued b = codeFor("00uG2");
        assertEquals("invalid_grant", errorCode(() -> redeem("mcp-inspector", b.code(), "http://127.0.0.1:1/callback", b.pkce().verifier(), null)));
        Issued c = codeFor("00uG3");
        assertRefused("invalid_grant", "client_mismatch",
                () -> redeem("ext-app", c.code(), CLIENT_REDIRECT, c.pkce().verifier(), null));
        Issued d = codeFor("00uG4");
        assertEquals("invalid_target", errorCode(() -> redeem("mcp-inspector", d.code(), CLIENT_REDIRECT, d.pkce().verifier(),
                List.of(URI.create("https://other.acme.test/")))));
        Issued e = codeFor("00uG5");
        assertEquals("invalid_grant", errorCode(() -> redeem("mcp-inspector", e.code(), CLIENT_REDIRECT, null, null)));
        assertEquals("invalid_grant", errorCode(() -> redeem("mcp-inspector", "never-issued", CLIENT_REDIRECT, new CodeVerifier(), null)));
    }

    @Test
    void replayedCodeIsRefusedAndRevokesWhatItIssued() throws Exception {
        Issued i = codeFor("00uReplay");
        Map<String, Object> tokens = redeem("mcp-inspector", i.code(), CLIENT_REDIRECT, i.pkce().verifier(), null);
        String jti = SignedJWT.parse((String) tokens.get("access_token")).getJWTClaimsSet().getJWTID();
        Revocations rev = fx.bean(Revocations.class);
        assertFalse(rev.isRevoked(TENANT, jti));
        assertRefused("invalid_grant", "code_replayed",
                () -> redeem("mcp-inspector", i.code(), CLIENT_REDIRECT, i.pkce().verifier(), null));
        assertTrue(rev.isRevoked(TENANT, jti), "the access token of the replayed code is revoked");
        assertEquals("invalid_grant", errorCode(() -> refresh("mcp-inspector", (String) tokens.get("refresh_token"), null)),
                "and its refresh token");
    }

    @Test
    void refreshRotatesAndReuseRevokesTheFamily() throws Exception {
        Issued i = codeFor("00uRefresh");
        Map<String, Object> t1 = redeem("mcp-inspector", i.code(), CLIENT_REDIRECT, i.pkce().verifier(), null);
        String rt1 = (String) t1.get("refresh_token");
        Map<String, Object> t2 = refresh("mcp-inspector", rt1, List.of(URI.create(RESOURCE)));
        String rt2 = (String) t2.get("refresh_token");
        assertNotEquals(rt1, rt2);
        SignedJWT at2 = SignedJWT.parse((String) t2.get("access_token"));
        assertEquals("00uRefresh", at2.getJWTClaimsSet().getSubject());
        assertEquals(fx.issuer("oauth2/default"), at2.getJWTClaimsSet().getJSONObjectClaim("sub_id").get("iss"));
        // bound to client and resource
        assertEquals("invalid_grant", errorCode(() -> refresh("ext-app", rt2, null)));
        assertEquals("invalid_target", errorCode(() -> refresh("mcp-inspector", rt2, List.of(URI.create("https://other.acme.test/")))));
        // reuse of rt1: refused, and the family (rt2 and its access token) is revoked
        OAuthException reuse = assertThrows(OAuthException.class, () -> refresh("mcp-inspector", rt1, null));
        assertEquals("invalid_grant", reuse.error().getCode());
        assertEquals("refresh_token_reuse", reuse.auditReason());
        assertEquals("token.refresh_reuse", reuse.auditTypeOverride(), "reuse has its own audit type");
        assertTrue(fx.bean(Revocations.class).isRevoked(TENANT, at2.getJWTClaimsSet().getJWTID()));
        assertEquals("invalid_grant", errorCode(() -> refresh("mcp-inspector", rt2, null)));
    }

    @Test
    void confidentialClientAuthentication() {
        RegisteredClientAuthenticator auth = fx.bean(RegisteredClientAuthenticator.class);
        AuthenticatedClient ok = auth.authenticate(tenant, fx.issuer(),
                new ClientSecretBasic(new ClientID("conf-app"), new Secret("conf-client-s3cret")), null, null).orElseThrow();
        assertEquals("client_secret_basic", ok.method());
        assertTrue(ok.internal());
        assertEquals("invalid_client", assertThrows(OAuthException.class, () -> auth.authenticate(tenant, fx.issuer(),
                new ClientSecretBasic(new ClientID("conf-app"), new Secret("wrong")), null, null)).error().getCode());
        // a confidential client cannot pretend to be public
        assertEquals("invalid_client", assertThrows(OAuthException.class, () -> auth.authenticate(tenant, fx.issuer(),
                null, new ClientID("conf-app"), null)).error().getCode());
        assertTrue(auth.authenticate(tenant, fx.issuer(), null, new ClientID("not-registered"), null).isEmpty());
    }

    // ------------------------------------------------------------------------------------------ connector admin API

    @Test
    void connectorAdminApi() throws Exception {
        Browser b = new Browser();
        String token = fx.adminToken();
        String base = fx.url() + "/admin/t/acme/connectors";
        HttpResponse<String> noAuth = b.get(base);
        assertEquals(401, noAuth.statusCode());
        String body = """
                {"id":"generic","type":"oidc","issuer":"%s","client_id":"deputy","client_secret":"very-secret-value",
                 "email_domains":["generic.example"],"role_mapping":{"devs":"developer","ops.team ü":["developer","no-such.rôle"]}}""".formatted(fx.issuer("generic"));
        HttpResponse<String> added = b.send(HttpRequest.newBuilder(URI.create(base)).header("Authorization", "Bearer " + token)
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build());
        assertEquals(201, added.statusCode(), added.body());
        assertFalse(added.body().contains("very-secret-value"));
        String sealed = fx.bean(ConnectorStore.class).find(TENANT, "generic").orElseThrow().sealedSecret();
        assertTrue(sealed.startsWith("v1.") && !sealed.contains("very-secret-value"));

        HttpResponse<String> list = b.send(HttpRequest.newBuilder(URI.create(base)).header("Authorization", "Bearer " + token).GET().build());
        assertTrue(list.body().contains("\"generic\"") && list.body().contains("\"okta\"") && !list.body().contains("very-secret-value"));
        HttpResponse<String> test = b.send(HttpRequest.newBuilder(URI.create(base + "/generic/test")).header("Authorization", "Bearer " + token)
                .POST(HttpRequest.BodyPublishers.noBody()).build());
        assertEquals(200, test.statusCode(), test.body());
        assertTrue(test.body().contains("\"discovery\""), test.body());
        // a mapping to a role the tenant lacks fails the test and names the role (users would get no scopes)
        assertTrue(test.body().contains("\"ok\":false"), test.body());
        assertTrue(test.body().contains("role_mapping: role_mapping names roles this tenant does not have: no-such.rôle"), test.body());
        assertFalse(test.body().contains("does not have: developer"), test.body());

        // the new connector is used for its domain at once
        fx.enqueue("generic", "gen-user", Map.of("groups", List.of("devs")));
        Pkce pkce = Pkce.create();
        Map<String, String> q = loginOk(new Browser(), authorizeUrl("mcp-inspector", pkce, Map.of("login_hint", "x@generic.example")));
        assertEquals("gen-user", SignedJWT.parse((String) redeem("mcp-inspector", q.get("code"), CLIENT_REDIRECT, pkce.verifier(), null)
                .get("access_token")).getJWTClaimsSet().getSubject());

        HttpResponse<String> disabled = b.send(HttpRequest.newBuilder(URI.create(base + "/generic/disable"))
                .header("Authorization", "Bearer " + token).POST(HttpRequest.BodyPublishers.noBody()).build());
        assertEquals(200, disabled.statusCode());
        assertTrue(disabled.body().contains("\"enabled\":false"));
        // disabled: HRD falls back to the default (okta)
        HttpResponse<String> r = new Browser().get(authorizeUrl("mcp-inspector", Pkce.create(), Map.of("login_hint", "x@generic.example")));
        assertTrue(r.headers().firstValue("Location").orElseThrow().startsWith(fx.issuer("oauth2/default")));

        HttpResponse<String> fileManaged = b.send(HttpRequest.newBuilder(URI.create(base + "/okta/disable"))
                .header("Authorization", "Bearer " + token).POST(HttpRequest.BodyPublishers.noBody()).build());
        assertEquals(409, fileManaged.statusCode());
        HttpResponse<String> removed = b.send(HttpRequest.newBuilder(URI.create(base + "/generic"))
                .header("Authorization", "Bearer " + token).DELETE().build());
        assertEquals(204, removed.statusCode());
        assertEquals(404, b.send(HttpRequest.newBuilder(URI.create(base + "/generic")).header("Authorization", "Bearer " + token)
                .GET().build()).statusCode());
        assertFalse(fx.audit("connector.added").isEmpty());
        for (AuditEntry e : fx.audit()) {
            assertFalse(String.valueOf(e.details()).contains("very-secret-value"));
        }
    }

    static Map<String, String> mapOf(String... kv) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put(kv[i], kv[i + 1]);
        }
        return m;
    }

    // ------------------------------------------------------------------------------------------ on-behalf-of

    /**
     * On-behalf-of in the code flow: the client asks for {@code requested_actor}; the code is bound to that agent;
     * at the token endpoint the client proves it with the agent's own token; the user's token names the agent as
     * {@code act}. Without the actor token (or with another agent's) the code is refused.
     */
    @Test
    void requestedActorIsBoundToTheCodeAndNamedAsActor() throws Exception {
        dev.deputy.broker.agent.AgentStore agents = fx.bean(dev.deputy.broker.agent.AgentStore.class);
        long now = System.currentTimeMillis();
        for (String id : List.of("obo-agent", "other-agent")) {
            agents.saveAgent(new dev.deputy.broker.agent.Agent(TENANT, id, id, "owner", "prod", List.of("developer"), Map.of(),
                    dev.deputy.broker.agent.Agent.Status.ACTIVE, dev.deputy.broker.agent.Agent.AuthMethod.PRIVATE_KEY_JWT,
                    "api", now, now, null, null));
            fx.bean(dev.deputy.broker.agent.AgentChanges.class).changed(TENANT, id);
        }
        dev.deputy.broker.token.AccessTokens minter = fx.bean(dev.deputy.broker.token.AccessTokens.class);
        java.util.function.Function<String, String> agentToken = id -> minter.mint(new dev.deputy.broker.token.AccessTokenSpec(
                TENANT, id, null, List.of(), id, RESOURCE, List.of("tools:read"), null, null, null, Map.of())).token();

        // an unknown agent is refused at /authorize (redirected error: the client and redirect URI are fine)
        Map<String, String> bad = login(new Browser(), authorizeUrl("mcp-inspector", Pkce.create(),
                Map.of("requested_actor", "no-such-agent")));
        assertEquals("invalid_request", bad.get("error"));

        String sub = "00uOBO1";
        fx.enqueue("oauth2/default", sub, Map.of("groups", List.of("engineers")));
        Pkce pkce = Pkce.create();
        Map<String, String> q = loginOk(new Browser(), authorizeUrl("mcp-inspector", pkce, Map.of("requested_actor", "obo-agent")));
        Browser http = new Browser();
        Map<String, String> form = new LinkedHashMap<>();
        form.put("grant_type", "authorization_code");
        form.put("client_id", "mcp-inspector");
        form.put("code", q.get("code"));
        form.put("redirect_uri", CLIENT_REDIRECT);
        form.put("code_verifier", pkce.verifier().getValue());
        form.put("actor_token", agentToken.apply("other-agent"));
        form.put("actor_token_type", "urn:ietf:params:oauth:token-type:access_token");
        int rejectedBefore = fx.audit("token.rejected").size();
        HttpResponse<String> wrong = http.postForm(fx.issuer() + "/token", form);
        assertEquals(400, wrong.statusCode(), wrong.body());
        assertTrue(wrong.body().contains("invalid_grant"), wrong.body());
        assertTrue(audited("token.rejected", "actor_token_invalid"), "the refusal is audited with its reason");
        assertEquals(rejectedBefore + 1, fx.audit("token.rejected").size(), "exactly one token.rejected (finding 13)");

        // the code was consumed by the failed attempt (single use): a fresh login with the right actor token
        fx.enqueue("oauth2/default", sub, Map.of("groups", List.of("engineers")));
        Pkce p2 = Pkce.create();
        Map<String, String> q2 = loginOk(new Browser(), authorizeUrl("mcp-inspector", p2, Map.of("requested_actor", "obo-agent")));
        form.put("code", q2.get("code"));
        form.put("code_verifier", p2.verifier().getValue());
        form.put("actor_token", agentToken.apply("obo-agent"));
        HttpResponse<String> ok = http.postForm(fx.issuer() + "/token", form);
        assertEquals(200, ok.statusCode(), ok.body());
        Map<String, Object> body = new com.fasterxml.jackson.databind.ObjectMapper().readValue(ok.body(), Map.class);
        SignedJWT at = SignedJWT.parse((String) body.get("access_token"));
        assertEquals(sub, at.getJWTClaimsSet().getSubject());
        assertEquals(Map.of("sub", "obo-agent"), at.getJWTClaimsSet().getJSONObjectClaim("act"));

        // finding 2: a refresh keeps the actor (RFC 8693 §4.1) ...
        Map<String, String> rf = new LinkedHashMap<>();
        rf.put("grant_type", "refresh_token");
        rf.put("client_id", "mcp-inspector");
        rf.put("refresh_token", (String) body.get("refresh_token"));
        HttpResponse<String> refreshed = http.postForm(fx.issuer() + "/token", rf);
        assertEquals(200, refreshed.statusCode(), refreshed.body());
        Map<String, Object> rb = new com.fasterxml.jackson.databind.ObjectMapper().readValue(refreshed.body(), Map.class);
        SignedJWT at2 = SignedJWT.parse((String) rb.get("access_token"));
        assertEquals(sub, at2.getJWTClaimsSet().getSubject());
        assertEquals(Map.of("sub", "obo-agent"), at2.getJWTClaimsSet().getJSONObjectClaim("act"), "act survives the refresh");
        // ... and stops when the agent is suspended (RFC 9700 §4.14): one token.rejected, the family untouched
        dev.deputy.broker.agent.Agent obo = agents.findAgent(TENANT, "obo-agent").orElseThrow();
        agents.saveAgent(obo.withStatus(dev.deputy.broker.agent.Agent.Status.SUSPENDED, System.currentTimeMillis()));
        fx.bean(dev.deputy.broker.agent.AgentChanges.class).changed(TENANT, "obo-agent");
        rf.put("refresh_token", (String) rb.get("refresh_token"));
        int before = fx.audit("token.rejected").size();
        HttpResponse<String> stopped = http.postForm(fx.issuer() + "/token", rf);
        assertEquals(400, stopped.statusCode(), stopped.body());
        assertTrue(stopped.body().contains("\"invalid_grant\""), stopped.body());
        assertEquals(before + 1, fx.audit("token.rejected").size(), "exactly one token.rejected");
        assertTrue(audited("token.rejected", "actor_inactive"));
        // resumed, the same refresh token works again (the refusal consumed nothing)
        agents.saveAgent(obo.withStatus(dev.deputy.broker.agent.Agent.Status.ACTIVE, System.currentTimeMillis()));
        fx.bean(dev.deputy.broker.agent.AgentChanges.class).changed(TENANT, "obo-agent");
        HttpResponse<String> again = http.postForm(fx.issuer() + "/token", rf);
        assertEquals(200, again.statusCode(), again.body());
    }

    /** Finding 13: a failed code or refresh grant at the token endpoint writes exactly one token.rejected. */
    @Test
    void aFailedCodeOrRefreshGrantIsAuditedOnce() {
        Browser http = new Browser();
        int before = fx.audit("token.rejected").size();
        HttpResponse<String> code = http.postForm(fx.issuer() + "/token", mapOf("grant_type", "authorization_code",
                "client_id", "mcp-inspector", "code", "never-issued", "redirect_uri", CLIENT_REDIRECT,
                "code_verifier", new CodeVerifier().getValue()));
        assertEquals(400, code.statusCode(), code.body());
        assertTrue(code.body().contains("\"invalid_grant\""), code.body());
        assertEquals(before + 1, fx.audit("token.rejected").size(), "one entry for the failed code grant");
        assertTrue(audited("token.rejected", "unknown_code"));
        HttpResponse<String> refresh = http.postForm(fx.issuer() + "/token", mapOf("grant_type", "refresh_token",
                "client_id", "mcp-inspector", "refresh_token", "drt_not-a-token"));
        assertEquals(400, refresh.statusCode(), refresh.body());
        assertEquals(before + 2, fx.audit("token.rejected").size(), "one entry for the failed refresh grant");
        assertTrue(audited("token.rejected", "unknown_refresh_token"));
    }
}
