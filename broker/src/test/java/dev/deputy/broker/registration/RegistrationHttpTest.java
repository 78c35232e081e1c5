package dev.deputy.broker.registration;

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
import com.sun.net.httpserver.HttpServer;
import dev.deputy.broker.agent.AgentStore;
import dev.deputy.broker.agent.Resource;
import dev.deputy.broker.audit.AuditEntry;
import dev.deputy.broker.audit.AuditLog;
import dev.deputy.broker.audit.RequestMeta;
import dev.deputy.broker.clientauth.RegisteredClientAuthenticator;
import dev.deputy.broker.federation.FedFixture;
import dev.deputy.broker.federation.FedFixture.Browser;
import dev.deputy.broker.grant.authcode.AuthorizationCodeGrantHandler;
import dev.deputy.broker.oauth.AuthenticatedClient;
import dev.deputy.broker.oauth.TokenContext;
import dev.deputy.broker.oauth.TokenResult;
import dev.deputy.broker.tenant.Tenant;
import dev.deputy.broker.tenant.Tenants;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.deputy.broker.federation.FedFixture.CLIENT_REDIRECT;
import static dev.deputy.broker.federation.FedFixture.RESOURCE;
import static dev.deputy.broker.federation.FedFixture.TENANT;
import static dev.deputy.broker.federation.FedFixture.query;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * PRM for registered resources, RFC 7591/7592 dynamic registration and Client ID Metadata Documents over HTTP,
 * with a real upstream login (mock-oauth2-server). CIMD documents are served by a JDK HTTP server on loopback
 * ({@code deputy.cimd.allow-loopback=true}, which also admits http to loopback); the SSRF rules with loopback
 * refused are in {@link SafeFetcherTest}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RegistrationHttpTest {
    static final ObjectMapper JSON = new ObjectMapper();
    @TempDir
    static Path dir;
    FedFixture fx;
    Tenant tenant;
    HttpServer docs;
    final Map<String, String[]> served = new ConcurrentHashMap<>(); // path -> {status, cache-control, body}
    final AtomicInteger hits = new AtomicInteger();

    @BeforeAll
    void start() throws IOException {
        Files.createDirectories(dir.resolve("config/tenants/acme"));
        Files.writeString(dir.resolve("config/tenants/acme/registration.yml"), """
                open: true
                redirect_uris: ["http://127.0.0.1:*/**", "http://127.0.0.1/**", "https://*.apps.example/**", "com.example.app:/**"]
                auth_methods: [none, client_secret_basic]
                max_clients: 50
                unused_expiry: 7d
                """);
        System.setProperty("deputy.cimd.allow-loopback", "true");
        fx = new FedFixture(dir);
        tenant = fx.bean(Tenants.class).find(TENANT).orElseThrow();
        fx.bean(AgentStore.class).saveResource(new Resource(TENANT, "bank", "https://bank.acme.test/mcp/", "Bank",
                List.of("balance:read", "offline_access", "fx:convert"), false, "test"));
        docs = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        docs.createContext("/", ex -> {
            hits.incrementAndGet();
            String[] d = served.get(ex.getRequestURI().getPath());
            if (d == null) {
                ex.sendResponseHeaders(404, -1);
                ex.close();
                return;
            }
            if (d[0].startsWith("3")) {
                ex.getResponseHeaders().add("Location", d[2]);
                ex.sendResponseHeaders(Integer.parseInt(d[0]), -1);
                ex.close();
                return;
            }
            byte[] body = d[2].getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().add("Content-Type", "application/json");
            if (d[1] != null) {
                ex.getResponseHeaders().add("Cache-Control", d[1]);
            }
            ex.sendResponseHeaders(Integer.parseInt(d[0]), body.length);
            ex.getResponseBody().write(body);
            ex.close();
        });
        docs.start();
    }

    @AfterAll
    void stop() {
        docs.stop(0);
        fx.close();
        System.clearProperty("deputy.cimd.allow-loopback");
    }

    @BeforeEach
    void clear() {
        fx.bean(ClientIdMetadataDocuments.class).clearCache();
    }

    // ------------------------------------------------------------------------------------------ helpers

    String docUrl(String path) {
        return "http://127.0.0.1:" + docs.getAddress().getPort() + path;
    }

    HttpResponse<String> post(String url, String json, String bearer) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json));
        if (bearer != null) {
            b.header("Authorization", "Bearer " + bearer);
        }
        return new Browser().send(b.build());
    }

    HttpResponse<String> call(String method, String url, String json, String bearer) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).method(method,
                json == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(json));
        if (json != null) {
            b.header("Content-Type", "application/json");
        }
        if (bearer != null) {
            b.header("Authorization", "Bearer " + bearer);
        }
        return new Browser().send(b.build());
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> json(HttpResponse<String> r) {
        try {
            return JSON.readValue(r.body(), Map.class);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    Map<String, Object> register(String body) {
        HttpResponse<String> r = post(fx.issuer() + "/register", body, null);
        assertEquals(201, r.statusCode(), r.body());
        assertEquals("no-store", r.headers().firstValue("Cache-Control").orElse(null));
        return json(r);
    }

    /** A refused registration: 400, its error code, and exactly one {@code client.registration_rejected} entry. */
    String registrationError(String body) {
        int before = fx.audit().size();
        HttpResponse<String> r = post(fx.issuer() + "/register", body, null);
        assertEquals(400, r.statusCode(), r.body());
        String error = (String) json(r).get("error");
        oneEntry(before, "client.registration_rejected", error);
        return error;
    }

    /** Issue 14: the request wrote exactly one entry, of this type, naming this error (when given). */
    void oneEntry(int before, String type, String error) {
        List<AuditEntry> all = fx.audit();
        assertEquals(before + 1, all.size(), () -> "entries: " + all.subList(Math.min(before, all.size()), all.size())
                .stream().map(AuditEntry::type).toList());
        AuditEntry e = all.get(all.size() - 1);
        assertEquals(type, e.type());
        if (error != null) {
            assertTrue(e.details().contains("\"error\":\"" + error + "\""), e.details());
        }
    }

    boolean audited(String type, String reason) {
        return fx.audit(type).stream().anyMatch(e -> e.details() != null && e.details().contains("\"" + reason + "\""));
    }

    record Pkce(CodeVerifier verifier, String challenge) {
        static Pkce create() {
            CodeVerifier v = new CodeVerifier();
            return new Pkce(v, CodeChallenge.compute(CodeChallengeMethod.S256, v).getValue());
        }
    }

    String authorizeUrl(String clientId, String redirect, Pkce pkce) {
        Map<String, List<String>> p = new LinkedHashMap<>();
        p.put("response_type", List.of("code"));
        p.put("client_id", List.of(clientId));
        p.put("redirect_uri", List.of(redirect));
        p.put("state", List.of("st-" + UUID.randomUUID()));
        p.put("code_challenge", List.of(pkce.challenge()));
        p.put("code_challenge_method", List.of("S256"));
        p.put("scope", List.of("tools:read"));
        p.put("resource", List.of(RESOURCE));
        return fx.issuer() + "/authorize?" + URLUtils.serializeParameters(p);
    }

    /** Signs in through the upstream IdP, approves consent, returns the code. */
    String loginWithConsent(Browser b, String clientId, String redirect, Pkce pkce, String sub, String expectOnPage) {
        fx.enqueue("oauth2/default", sub, Map.of("email", sub + "@okta.example", "groups", List.of("engineers")));
        HttpResponse<String> page = b.follow(authorizeUrl(clientId, redirect, pkce) + "&login_hint=" + sub + "%40okta.example",
                redirect);
        assertEquals(200, page.statusCode(), page.body());
        assertTrue(page.body().contains("Allow access?"), page.body());
        if (expectOnPage != null) {
            assertTrue(page.body().contains(expectOnPage), page.body());
        }
        String csrf = page.body().replaceAll("(?s).*name=\"csrf\" value=\"([^\"]+)\".*", "$1");
        HttpResponse<String> allowed = b.postForm(fx.issuer() + "/consent", Map.of("csrf", csrf, "decision", "allow"));
        assertEquals(302, allowed.statusCode(), allowed.body());
        Map<String, String> q = query(allowed.headers().firstValue("Location").orElseThrow());
        assertNull(q.get("error"), q::toString);
        return q.get("code");
    }

    /** The real token endpoint (POST /t/{tenant}/token) as a public client: client_id + PKCE verifier. */
    Map<String, Object> redeem(String clientId, String code, String redirect, CodeVerifier v) {
        HttpResponse<String> r = new Browser().postForm(fx.issuer() + "/token", Map.of("grant_type", "authorization_code",
                "code", code, "redirect_uri", redirect, "code_verifier", v.getValue(), "client_id", clientId));
        assertEquals(200, r.statusCode(), r.body());
        return json(r);
    }

    // ------------------------------------------------------------------------------------------ metadata + PRM

    @Test
    void metadataAdvertisesRegistrationAndCimd() {
        Map<String, Object> md = json(new Browser().get(fx.url() + "/.well-known/oauth-authorization-server/t/" + TENANT));
        assertEquals(fx.issuer() + "/register", md.get("registration_endpoint"));
        assertEquals(Boolean.TRUE, md.get("client_id_metadata_document_supported"));
    }

    @Test
    void protectedResourceMetadataOfARegisteredResource() {
        HttpResponse<String> r = new Browser().get(fx.issuer() + "/resources/bank/.well-known/oauth-protected-resource");
        assertEquals(200, r.statusCode(), r.body());
        Map<String, Object> prm = json(r);
        assertEquals("https://bank.acme.test/mcp/", prm.get("resource"));
        Map<String, Object> as = json(new Browser().get(fx.url() + "/.well-known/oauth-authorization-server/t/" + TENANT));
        // RFC 9728 §3.3 / RFC 8414 §3.3: byte-identical issuer in both documents
        assertEquals(List.of(as.get("issuer")), prm.get("authorization_servers"));
        assertTrue(r.body().contains("\"authorization_servers\":[\"" + fx.issuer() + "\"]"), r.body());
        assertEquals(List.of("balance:read", "fx:convert"), prm.get("scopes_supported"));
        assertEquals(List.of("header"), prm.get("bearer_methods_supported"));
        assertEquals(404, new Browser().get(fx.issuer() + "/resources/nope/.well-known/oauth-protected-resource").statusCode());
        assertEquals(404, new Browser().get(fx.url() + "/t/nope/resources/bank/.well-known/oauth-protected-resource").statusCode());
    }

    // ------------------------------------------------------------------------------------------ DCR

    @Test
    void dynamicRegistrationThenLoginWithConsentThenManagement() {
        Map<String, Object> reg = register("""
                {"redirect_uris":["http://127.0.0.1:33418/callback"],"token_endpoint_auth_method":"none",
                 "grant_types":["authorization_code","refresh_token"],"response_types":["code"],
                 "client_name":"Claude <Desktop>","scope":"tools:read","x_unknown":"ignored"}""");
        String clientId = (String) reg.get("client_id");
        assertTrue(clientId.startsWith("dcr_"), clientId);
        assertNotNull(reg.get("client_id_issued_at"));
        assertEquals(List.of("http://127.0.0.1:33418/callback"), reg.get("redirect_uris"));
        assertEquals("none", reg.get("token_endpoint_auth_method"));
        assertEquals("native", reg.get("application_type"));
        assertEquals("Claude <Desktop>", reg.get("client_name"));
        assertNull(reg.get("client_secret"));
        assertNull(reg.get("x_unknown"));
        String rat = (String) reg.get("registration_access_token");
        assertNotNull(rat);
        assertEquals(fx.issuer() + "/register/" + clientId, reg.get("registration_client_uri"));
        assertTrue(audited("client.registered", "dcr"));

        // external: the user consents; then the code is redeemed as a public client
        Browser b = new Browser();
        Pkce pkce = Pkce.create();
        String code = loginWithConsent(b, clientId, CLIENT_REDIRECT, pkce, "00uDcr1", "Claude &lt;Desktop&gt;");
        // issue 14 finding 4: authorize, login and consent are not use; the issued token is
        RegistrationStore store = fx.bean(RegistrationStore.class);
        assertNull(store.find(TENANT, clientId).orElseThrow().usedAt());
        Map<String, Object> tokens = redeem(clientId, code, CLIENT_REDIRECT, pkce.verifier());
        assertNotNull(tokens.get("access_token"));
        assertNotNull(store.find(TENANT, clientId).orElseThrow().usedAt());

        // RFC 7592: read, update, delete with the registration access token
        String cfg = (String) reg.get("registration_client_uri");
        assertEquals(401, call("GET", cfg, null, null).statusCode());
        HttpResponse<String> wrong = call("GET", cfg, null, "not-the-token");
        assertEquals(401, wrong.statusCode());
        assertEquals("invalid_token", json(wrong).get("error"));
        assertTrue(wrong.headers().firstValue("WWW-Authenticate").orElse("").contains("invalid_token"));
        HttpResponse<String> read = call("GET", cfg, null, rat);
        assertEquals(200, read.statusCode(), read.body());
        assertEquals(clientId, json(read).get("client_id"));
        assertEquals(List.of("http://127.0.0.1:33418/callback"), json(read).get("redirect_uris"));

        HttpResponse<String> badPut = call("PUT", cfg, """
                {"client_id":"%s","redirect_uris":["https://evil.example/cb"],"token_endpoint_auth_method":"none"}"""
                .formatted(clientId), rat);
        assertEquals(400, badPut.statusCode(), badPut.body());
        assertEquals("invalid_redirect_uri", json(badPut).get("error"));
        HttpResponse<String> put = call("PUT", cfg, """
                {"client_id":"%s","redirect_uris":["http://127.0.0.1/cb2"],"token_endpoint_auth_method":"none",
                 "client_name":"Renamed"}""".formatted(clientId), rat);
        assertEquals(200, put.statusCode(), put.body());
        assertEquals(List.of("http://127.0.0.1/cb2"), json(put).get("redirect_uris"));
        assertEquals("Renamed", json(put).get("client_name"));
        // the old redirect URI is gone: the authorization endpoint refuses it (a page, no redirect)
        assertEquals(400, b.get(authorizeUrl(clientId, CLIENT_REDIRECT, Pkce.create())).statusCode());

        // another client's token does not manage this one
        String otherRat = (String) register("{\"redirect_uris\":[\"http://127.0.0.1/x\"],\"token_endpoint_auth_method\":\"none\"}")
                .get("registration_access_token");
        assertEquals(401, call("DELETE", cfg, null, otherRat).statusCode());
        assertEquals(204, call("DELETE", cfg, null, rat).statusCode());
        assertEquals(401, call("GET", cfg, null, rat).statusCode());
        assertEquals(400, b.get(authorizeUrl(clientId, "http://127.0.0.1/cb2", Pkce.create())).statusCode());
        assertFalse(fx.audit("client.deleted").isEmpty());
    }

    @Test
    void confidentialRegistrationGetsASecretOnce() {
        Map<String, Object> reg = register("""
                {"redirect_uris":["https://app.apps.example/cb"],"token_endpoint_auth_method":"client_secret_basic"}""");
        assertEquals("web", reg.get("application_type"));
        assertNotNull(reg.get("client_secret"));
        assertEquals(0, ((Number) reg.get("client_secret_expires_at")).intValue());
        HttpResponse<String> read = call("GET", (String) reg.get("registration_client_uri"), null,
                (String) reg.get("registration_access_token"));
        assertNull(json(read).get("client_secret"));
    }

    @Test
    void omittedAuthMethodIsSubstitutedWithinPolicy() {
        // RFC 7591 §2 default would be client_secret_basic, which this tenant allows
        assertEquals("client_secret_basic", register("{\"redirect_uris\":[\"http://127.0.0.1/cb\"]}")
                .get("token_endpoint_auth_method"));
    }

    @Test
    void registrationRejections() {
        // RFC 7591 §3.2.2 invalid_redirect_uri: outside the tenant's patterns, http to a non-loopback host, fragment,
        // a web client on loopback, a scheme that is not reverse-domain, none at all
        assertEquals("invalid_redirect_uri", registrationError("{\"redirect_uris\":[\"https://evil.example/cb\"],\"token_endpoint_auth_method\":\"none\"}"));
        assertTrue(audited("client.registration_rejected", "redirect_uri_forbidden"));
        assertEquals("invalid_redirect_uri", registrationError("{\"redirect_uris\":[\"http://app.apps.example/cb\"],\"token_endpoint_auth_method\":\"none\"}"));
        assertEquals("invalid_redirect_uri", registrationError("{\"redirect_uris\":[\"https://a.apps.example/cb#x\"],\"token_endpoint_auth_method\":\"none\"}"));
        assertEquals("invalid_redirect_uri", registrationError("{\"application_type\":\"web\",\"redirect_uris\":[\"http://127.0.0.1/cb\"],\"token_endpoint_auth_method\":\"none\"}"));
        assertTrue(audited("client.registration_rejected", "redirect_uri_web"));
        assertEquals("invalid_redirect_uri", registrationError("{\"redirect_uris\":[\"myapp:/cb\"],\"token_endpoint_auth_method\":\"none\"}"));
        assertEquals("invalid_redirect_uri", registrationError("{\"redirect_uris\":[],\"token_endpoint_auth_method\":\"none\"}"));
        assertEquals("invalid_redirect_uri", registrationError("{\"token_endpoint_auth_method\":\"none\"}"));
        // the host pattern's * does not cross into user info or query
        assertEquals("invalid_redirect_uri", registrationError("{\"redirect_uris\":[\"https://evil.com?.apps.example/cb\"],\"token_endpoint_auth_method\":\"none\"}"));
        // invalid_client_metadata: auth method outside the policy, private_key_jwt, client_credentials, implicit, garbage
        assertEquals("invalid_client_metadata", registrationError("{\"redirect_uris\":[\"http://127.0.0.1/cb\"],\"token_endpoint_auth_method\":\"client_secret_post\"}"));
        assertTrue(audited("client.registration_rejected", "auth_method_forbidden"));
        assertEquals("invalid_client_metadata", registrationError("{\"redirect_uris\":[\"http://127.0.0.1/cb\"],\"token_endpoint_auth_method\":\"private_key_jwt\",\"jwks_uri\":\"https://x.example/jwks\"}"));
        assertEquals("invalid_client_metadata", registrationError("{\"redirect_uris\":[\"http://127.0.0.1/cb\"],\"grant_types\":[\"client_credentials\"],\"token_endpoint_auth_method\":\"none\"}"));
        assertEquals("invalid_client_metadata", registrationError("{\"redirect_uris\":[\"http://127.0.0.1/cb\"],\"response_types\":[\"token\"],\"token_endpoint_auth_method\":\"none\"}"));
        assertEquals("invalid_client_metadata", registrationError("not json"));
        assertEquals("invalid_client_metadata", registrationError("[1,2]"));
        assertEquals("invalid_client_metadata", registrationError("{\"redirect_uris\":\"http://127.0.0.1/cb\",\"token_endpoint_auth_method\":\"none\",\"client_name\":5}"));
        assertEquals("unapproved_software_statement", registrationError(
                "{\"redirect_uris\":[\"http://127.0.0.1/cb\"],\"software_statement\":\"e30.e30.\"}"));
        // RFC 7592: the configuration endpoint without, or with a wrong, registration access token: 401 invalid_token,
        // one client.management_denied entry, whatever the client id
        for (String bearer : java.util.Arrays.asList(null, "not-the-token")) {
            int before = fx.audit().size();
            HttpResponse<String> m = call("GET", fx.issuer() + "/register/payments.settlement.reconciler", null, bearer);
            assertEquals(401, m.statusCode(), m.body());
            assertEquals("invalid_token", json(m).get("error"));
            oneEntry(before, "client.management_denied", null);
        }
        // a client_id in the request is not taken
        Map<String, Object> r = register("{\"client_id\":\"mcp-inspector\",\"redirect_uris\":[\"http://127.0.0.1/cb\"],\"token_endpoint_auth_method\":\"none\"}");
        assertTrue(((String) r.get("client_id")).startsWith("dcr_"));
        assertEquals(404, post(fx.url() + "/t/nope/register", "{}", null).statusCode());
    }

    /** Issue 14 finding 8: a double quote (or backslash, or control character) in a redirect URI is a 400, not a 500. */
    @Test
    void hostileRedirectUrisAreInvalidRedirectUriNotServerErrors() {
        for (String uri : List.of("http://127.0.0.1/cb\\\"><script>", "http://127.0.0.1/a\\\"b", "https://a.apps.example/\\\\x\\\"",
                "http://127.0.0.1/\\u0000nul", "http://127.0.0.1/ sp ace", "com.example.app:/\\\"q\\\"")) {
            HttpResponse<String> r = post(fx.issuer() + "/register",
                    "{\"redirect_uris\":[\"" + uri + "\"],\"token_endpoint_auth_method\":\"none\"}", null);
            assertEquals(400, r.statusCode(), uri + " -> " + r.body());
            assertEquals("invalid_redirect_uri", json(r).get("error"), r.body());
            String description = (String) json(r).get("error_description");
            // RFC 6749 §5.2: error_description excludes " and \\
            assertTrue(description == null || description.matches("[\\x20-\\x21\\x23-\\x5B\\x5D-\\x7E]*"), description);
        }
        assertTrue(audited("client.registration_rejected", "invalid_redirect_uri")
                || audited("client.registration_rejected", "unparseable_metadata")
                || audited("client.registration_rejected", "redirect_uri_syntax"));
        // RFC 7592 update with the same: the same answer
        Map<String, Object> reg = register("{\"redirect_uris\":[\"http://127.0.0.1/ok\"],\"token_endpoint_auth_method\":\"none\"}");
        HttpResponse<String> put = call("PUT", (String) reg.get("registration_client_uri"),
                "{\"client_id\":\"" + reg.get("client_id") + "\",\"redirect_uris\":[\"http://127.0.0.1/a\\\"b\"],"
                        + "\"token_endpoint_auth_method\":\"none\"}", (String) reg.get("registration_access_token"));
        assertEquals(400, put.statusCode(), put.body());
        assertEquals("invalid_redirect_uri", json(put).get("error"), put.body());
        // a CIMD document with such a URI: refused (a page, never a redirect) and audited
        String url = docUrl("/apps/quote.json");
        served.put("/apps/quote.json", new String[]{"200", "max-age=60", "{\"client_id\":\"" + url
                + "\",\"redirect_uris\":[\"http://127.0.0.1/a\\\"b\"]}"});
        HttpResponse<String> page = new Browser().get(authorizeUrl(url, CLIENT_REDIRECT, Pkce.create()));
        assertEquals(400, page.statusCode(), page.body());
        assertTrue(page.headers().firstValue("Location").isEmpty());
        assertTrue(audited("client.cimd_rejected", "invalid_metadata") || audited("client.cimd_rejected", "redirect_uri_syntax"));
    }

    // ------------------------------------------------------------------------------------------ CIMD

    String cimd(String path, String clientId, List<String> redirects, String extra) {
        String body = "{\"client_id\":\"" + clientId + "\",\"client_name\":\"Doc <Client>\",\"redirect_uris\":"
                + redirects.stream().map(u -> "\"" + u + "\"").toList() + (extra == null ? "" : "," + extra) + "}";
        served.put(path, new String[]{"200", "max-age=60", body});
        return clientId;
    }

    @Test
    void clientIdMetadataDocumentLoginAndPublicClientAuth() {
        String clientId = cimd("/apps/good.json", docUrl("/apps/good.json"), List.of(CLIENT_REDIRECT), null);
        Browser b = new Browser();
        Pkce pkce = Pkce.create();
        // the consent page names the client and shows where it will return to
        String code = loginWithConsent(b, clientId, CLIENT_REDIRECT, pkce, "00uCimd1", "Doc &lt;Client&gt;");
        Map<String, Object> tokens = redeem(clientId, code, CLIENT_REDIRECT, pkce.verifier());
        try {
            assertEquals(clientId, SignedJWT.parse((String) tokens.get("access_token")).getJWTClaimsSet().getStringClaim("client_id"));
        } catch (java.text.ParseException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void cimdCachingHonoursMaxAgeAndRemembersErrorsBriefly() {
        ClientIdMetadataDocuments docsBean = fx.bean(ClientIdMetadataDocuments.class);
        String cached = cimd("/apps/cached.json", docUrl("/apps/cached.json"), List.of(CLIENT_REDIRECT), null);
        int before = hits.get();
        assertTrue(fx.bean(ClientDirectory.class).find(TENANT, cached).isPresent());
        assertTrue(fx.bean(ClientDirectory.class).find(TENANT, cached).isPresent());
        assertEquals(before + 1, hits.get());
        String url = docUrl("/apps/flaky.json");
        served.put("/apps/flaky.json", new String[]{"500", "max-age=600", "{}"});
        assertTrue(fx.bean(ClientDirectory.class).find(TENANT, url).isEmpty());
        cimd("/apps/flaky.json", url, List.of(CLIENT_REDIRECT), null);
        // a failure is remembered briefly (deputy.cimd.failure-cache), whatever the error's own Cache-Control
        int afterFailure = hits.get();
        assertTrue(fx.bean(ClientDirectory.class).find(TENANT, url).isEmpty());
        assertEquals(afterFailure, hits.get());
        docsBean.clearCache();
        assertTrue(fx.bean(ClientDirectory.class).find(TENANT, url).isPresent());
        served.put("/apps/nocache.json", new String[]{"200", "no-store", "{\"client_id\":\"" + docUrl("/apps/nocache.json")
                + "\",\"redirect_uris\":[\"" + CLIENT_REDIRECT + "\"]}"});
        int n = hits.get();
        fx.bean(ClientDirectory.class).find(TENANT, docUrl("/apps/nocache.json"));
        fx.bean(ClientDirectory.class).find(TENANT, docUrl("/apps/nocache.json"));
        assertEquals(n + 2, hits.get());
        docsBean.clearCache();
    }

    @Test
    void cimdRejections() {
        Browser b = new Browser();
        // the document's client_id differs from its URL
        cimd("/apps/mismatch.json", docUrl("/apps/other.json"), List.of(CLIENT_REDIRECT), null);
        HttpResponse<String> r = b.get(authorizeUrl(docUrl("/apps/mismatch.json"), CLIENT_REDIRECT, Pkce.create()));
        assertEquals(400, r.statusCode());
        assertTrue(audited("client.cimd_rejected", "client_id_mismatch"));
        // the authorize request's redirect_uri is not in the document: a page, never a redirect
        String listed = cimd("/apps/listed.json", docUrl("/apps/listed.json"), List.of("http://127.0.0.1:33418/other"), null);
        HttpResponse<String> mismatch = b.get(authorizeUrl(listed, "http://127.0.0.1:33418/callback", Pkce.create()));
        assertEquals(400, mismatch.statusCode());
        assertTrue(mismatch.headers().firstValue("Location").isEmpty());
        assertTrue(audited("authorize.rejected", "redirect_uri_mismatch"));
        // shared-secret methods and secrets are impossible for a document client
        String secretDoc = cimd("/apps/secret.json", docUrl("/apps/secret.json"), List.of(CLIENT_REDIRECT),
                "\"token_endpoint_auth_method\":\"client_secret_basic\"");
        assertEquals(400, b.get(authorizeUrl(secretDoc, CLIENT_REDIRECT, Pkce.create())).statusCode());
        assertTrue(audited("client.cimd_rejected", "auth_method_forbidden"));
        String withSecret = cimd("/apps/withsecret.json", docUrl("/apps/withsecret.json"), List.of(CLIENT_REDIRECT),
                "\"client_secret\":\"s3cret\"");
        assertEquals(400, b.get(authorizeUrl(withSecret, CLIENT_REDIRECT, Pkce.create())).statusCode());
        // not found, oversized, too many redirects, no path
        assertEquals(400, b.get(authorizeUrl(docUrl("/apps/missing.json"), CLIENT_REDIRECT, Pkce.create())).statusCode());
        assertTrue(audited("client.cimd_rejected", "http_status"));
        served.put("/apps/big.json", new String[]{"200", null, "{\"client_id\":\"" + docUrl("/apps/big.json")
                + "\",\"redirect_uris\":[\"" + CLIENT_REDIRECT + "\"],\"x\":\"" + "a".repeat(6000) + "\"}"});
        assertEquals(400, b.get(authorizeUrl(docUrl("/apps/big.json"), CLIENT_REDIRECT, Pkce.create())).statusCode());
        assertTrue(audited("client.cimd_rejected", "too_large"));
        served.put("/r1", new String[]{"302", null, docUrl("/r2")});
        served.put("/r2", new String[]{"302", null, docUrl("/r3")});
        served.put("/r3", new String[]{"302", null, docUrl("/r4")});
        served.put("/r4", new String[]{"302", null, docUrl("/r5")});
        assertEquals(400, b.get(authorizeUrl(docUrl("/r1"), CLIENT_REDIRECT, Pkce.create())).statusCode());
        assertTrue(audited("client.cimd_rejected", "too_many_redirects"));
        // a redirect to a private address is checked like the first hop
        served.put("/to-private", new String[]{"302", null, "https://10.0.0.1/doc.json"});
        assertEquals(400, b.get(authorizeUrl(docUrl("/to-private"), CLIENT_REDIRECT, Pkce.create())).statusCode());
        assertTrue(audited("client.cimd_rejected", "private_address"));
        // a document URL to a private address, never contacted
        assertEquals(400, b.get(authorizeUrl("https://192.168.1.10/client.json", CLIENT_REDIRECT, Pkce.create())).statusCode());
        assertEquals(400, b.get(authorizeUrl("https://169.254.169.254/latest/meta-data", CLIENT_REDIRECT, Pkce.create())).statusCode());
        long privateRejections = fx.audit("client.cimd_rejected").stream()
                .filter(e -> e.details().contains("\"private_address\"")).count();
        assertTrue(privateRejections >= 3, "private address rejections: " + privateRejections);
        List<AuditEntry> all = fx.audit("client.cimd_rejected");
        assertFalse(all.isEmpty());
    }
}
