package dev.deputy.broker.admin;

import com.nimbusds.oauth2.sdk.util.URLUtils;
import dev.deputy.broker.admin.signin.ConsoleSettings;
import dev.deputy.broker.console.BrowserHarness;
import no.nav.security.mock.oauth2.MockOAuth2Server;
import no.nav.security.mock.oauth2.token.OAuth2TokenCallback;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.CookieManager;
import java.net.HttpCookie;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What the console's tests share: a real OpenID provider on loopback for the admins (mock-oauth2-server: discovery,
 * JWKS, code + PKCE, signed ID tokens carrying groups/acr/amr/auth_time), a broker with the console signing in through
 * it, the ID token an admin signs in with, and {@link Browser}, an HTTP client with a cookie jar that signs in, steps up
 * and posts forms as a browser would. The browser tests sign in a real Chromium through {@link #signIn(BrowserHarness,
 * String, List, boolean, String)}; {@link ConsoleBrowserTestBase} holds their fixture and browser for a class.
 */
final class ConsoleFixture implements AutoCloseable {
    static final String CLIENT_ID = "deputy-console";
    static final String CLIENT_SECRET = "console-s3cret";
    static final String MFA_ACR = "urn:corp:mfa";
    /** The role map most console tests use: tenant admins of acme, auditors of every tenant. */
    static final String ROLE_MAP = "acme-ops=tenant_admin:acme; Sicherheit & Prüfung=auditor:*";
    /** A connector from a config file, disabled, its secret's variable unset: the connectors page's config-file row. */
    static final String LEGACY_SSO = """
            id: legacy-sso
            type: oidc
            display_name: Legacy SSO
            issuer: https://legacy-sso.example.com
            client_id: deputy
            client_secret_env: DEPUTY_TEST_LEGACY_SSO_SECRET_UNSET
            enabled: false
            """;

    final MockOAuth2Server idp;
    final ManageBroker broker;

    private ConsoleFixture(MockOAuth2Server idp, ManageBroker broker) {
        this.idp = idp;
        this.broker = broker;
    }

    /**
     * An IdP and a broker (on MariaDB and Redis, or the embedded default) whose console signs in through it:
     * {@code config} writes the broker's config tree under the root it is given; {@code env} adds to or replaces the
     * console's settings ({@code DEPUTY_CONSOLE_*}; the issuer, client and step-up ACR are set).
     */
    static ConsoleFixture start(boolean mariadbAndRedis, Consumer<Path> config, Map<String, String> env) {
        MockOAuth2Server idp = new MockOAuth2Server();
        idp.start();
        try {
            Path root = ManageBroker.newRoot();
            config.accept(root);
            Map<String, String> settings = new HashMap<>();
            settings.put("DEPUTY_CONSOLE_ISSUER", idp.issuerUrl("corp-admins").toString());
            settings.put("DEPUTY_CONSOLE_CLIENT_ID", CLIENT_ID);
            settings.put("DEPUTY_CONSOLE_CLIENT_SECRET", CLIENT_SECRET);
            settings.put("DEPUTY_CONSOLE_ROLE_MAP", ROLE_MAP);
            settings.put("DEPUTY_CONSOLE_STEP_UP_ACR", MFA_ACR);
            settings.putAll(env);
            return new ConsoleFixture(idp, ManageBroker.start(root, mariadbAndRedis, ConsoleSettings.properties(settings::get)));
        } catch (RuntimeException | Error e) {
            idp.shutdown();
            throw e;
        }
    }

    /** Writes {@code content} to {@code path} under the root (a config file of the broker). */
    static void write(Path root, String path, String content) {
        ManageBroker.write(root.resolve(path), content);
    }

    @Override
    public void close() {
        try {
            broker.close();
        } finally {
            idp.shutdown();
        }
    }

    /** A browser of its own (a fresh cookie jar). */
    Browser browser() {
        return new Browser(this);
    }

    /**
     * The ID token of the IdP's next sign-in: {@code sub} in {@code groups}, a password sign-in ({@code amr: pwd}) or
     * with {@code mfa} a multi-factor one ({@code pwd otp} and the step-up ACR), now; e-mail {@code <sub>@corp.example}
     * unless given. Returns the claims.
     */
    Map<String, Object> enqueue(String sub, List<String> groups, List<String> amr, String acr, String email) {
        Map<String, Object> claims = new HashMap<>();
        claims.put("groups", groups);
        claims.put("amr", amr);
        claims.put("auth_time", System.currentTimeMillis() / 1000);
        claims.put("email", email != null ? email : sub + "@corp.example");
        claims.put("email_verified", true);
        if (acr != null) {
            claims.put("acr", acr);
        }
        idp.enqueueCallback(new IdTokenClaims(sub, claims));
        return claims;
    }

    Map<String, Object> enqueue(String sub, List<String> groups, boolean mfa) {
        return mfa ? enqueue(sub, groups, List.of("pwd", "otp"), MFA_ACR, null) : enqueue(sub, groups, List.of("pwd"), null, null);
    }

    /** Signs the real browser in to the console as {@code sub} (cookies cleared first), then opens {@code path}. */
    void signIn(BrowserHarness h, String sub, List<String> groups, boolean mfa, String path) {
        h.consoleSignIn(broker.url(), () -> enqueue(sub, groups, mfa), path);
    }

    // ------------------------------------------------------------------------------------------ small helpers

    static String agentJson(String id, String owner, String role) {
        return """
                {"id":"%s","name":"Bot %s","owner":"%s","environment":"staging",%s"auth_method":"private_key_jwt","jwks":%s}"""
                .formatted(id, id, owner, role == null ? "" : "\"roles\":[\"" + role + "\"],", TestKeys.publicJwks());
    }

    static String suffix() {
        return UUID.randomUUID().toString().substring(0, 8);
    }

    static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    static String json(Object o) {
        try {
            return ManageBroker.JSON.writeValueAsString(o);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    static Map<String, String> query(String location) {
        Map<String, String> out = new LinkedHashMap<>();
        URLUtils.parseParameters(URI.create(location).getRawQuery()).forEach((k, v) -> out.put(k, v.get(0)));
        return out;
    }

    /** The values of {@code attribute} on the page's rows ({@code data-client="…"}), HTML entities as written. */
    static List<String> rows(String html, String attribute) {
        List<String> out = new java.util.ArrayList<>();
        String marker = attribute + "=\"";
        for (int i = html.indexOf(marker); i >= 0; i = html.indexOf(marker, i + 1)) {
            int start = i + marker.length();
            out.add(html.substring(start, html.indexOf('"', start)).replace("&amp;", "&"));
        }
        return out;
    }

    /** The admin IdP's next token response: an ID token for {@code sub} with these claims, audience the console client. */
    record IdTokenClaims(String sub, Map<String, Object> claims) implements OAuth2TokenCallback {
        @Override
        public String issuerId() {
            return "corp-admins";
        }

        @Override
        public String subject(com.nimbusds.oauth2.sdk.TokenRequest tokenRequest) {
            return sub;
        }

        @Override
        public String typeHeader(com.nimbusds.oauth2.sdk.TokenRequest tokenRequest) {
            return "JWT";
        }

        @Override
        public List<String> audience(com.nimbusds.oauth2.sdk.TokenRequest tokenRequest) {
            return List.of(CLIENT_ID);
        }

        @Override
        public Map<String, Object> addClaims(com.nimbusds.oauth2.sdk.TokenRequest tokenRequest) {
            return claims;
        }

        @Override
        public long tokenExpiry() {
            return 3600;
        }
    }

    /** A browser over HTTP: a cookie jar, redirects followed by hand (so each hop can be looked at). */
    /** Sends {@code r} with {@code http}, the body as a string; I/O failures unchecked. */
    static HttpResponse<String> exchange(HttpClient http, HttpRequest r) {
        try {
            return http.send(r, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    static final class Browser {
        private final ConsoleFixture fx;
        private final CookieManager jar = new CookieManager();
        private final HttpClient http = HttpClient.newBuilder().cookieHandler(jar).followRedirects(HttpClient.Redirect.NEVER)
                .connectTimeout(Duration.ofSeconds(5)).build();
        String sessionSetCookie;
        Map<String, String> lastAuthorizeQuery;

        Browser(ConsoleFixture fx) {
            this.fx = fx;
        }

        HttpRequest.Builder req(String uri) {
            return HttpRequest.newBuilder(URI.create(uri)).timeout(Duration.ofSeconds(60));
        }

        HttpResponse<String> get(String uri) {
            return send(req(uri).GET());
        }

        HttpResponse<String> post(String uri, String json, String csrf) {
            return send(req(uri).header("Content-Type", "application/json").header("X-CSRF-Token", csrf)
                    .POST(HttpRequest.BodyPublishers.ofString(json)));
        }

        HttpResponse<String> postForm(String uri, Map<String, String> form) {
            Map<String, List<String>> p = new LinkedHashMap<>();
            form.forEach((k, v) -> p.put(k, List.of(v)));
            return send(req(uri).header("Content-Type", "application/x-www-form-urlencoded")
                    .POST(HttpRequest.BodyPublishers.ofString(URLUtils.serializeParameters(p))));
        }

        HttpResponse<String> send(HttpRequest.Builder r) {
            return ConsoleFixture.exchange(http, r.build());
        }

        /** A request without this browser's cookies. */
        static HttpResponse<String> raw(HttpRequest r) {
            return exchange(HttpClient.newHttpClient(), r);
        }

        /** Follows redirects from {@code uri}; remembers the IdP authorization request and the session Set-Cookie. */
        HttpResponse<String> follow(String uri) {
            if (uri.contains("/authorize")) {
                lastAuthorizeQuery = query(uri);
            }
            HttpResponse<String> r = get(uri);
            for (int i = 0; i < 10 && r.statusCode() / 100 == 3; i++) {
                String next = r.uri().resolve(r.headers().firstValue("Location").orElseThrow()).toString();
                if (next.contains("/authorize")) {
                    lastAuthorizeQuery = query(next);
                }
                r.headers().allValues("Set-Cookie").stream().filter(c -> c.startsWith("deputy_console=dpc_"))
                        .findFirst().ifPresent(c -> sessionSetCookie = c);
                r = get(next);
            }
            return r;
        }

        /** Signs in through the IdP ({@code amr} one method; {@code email} null: {@code <sub>@corp.example}). */
        HttpResponse<String> signIn(String sub, List<String> groups, String amr, String email) {
            fx.enqueue(sub, groups, List.of(amr), null, email);
            return follow(fx.broker.url() + "/console");
        }

        /** A password sign-in that lands on the console's home page. */
        void signIn(String sub, List<String> groups) {
            HttpResponse<String> home = signIn(sub, groups, "pwd", null);
            assertEquals(200, home.statusCode(), home.body());
            assertEquals("/console", home.uri().getPath(), home.uri().toString());
        }

        /**
         * The console's step-up with an MFA sign-in; returns the authorization request's parameters. With
         * {@code prompt=login} the IdP shows its login form: it is filled in (user name, the ID token's claims).
         */
        Map<String, String> stepUp(String sub, List<String> groups) {
            Map<String, Object> claims = fx.enqueue(sub, groups, List.of("pwd", "otp"), MFA_ACR, null);
            HttpResponse<String> form = follow(fx.broker.url() + "/console/step-up");
            assertEquals(200, form.statusCode(), form.body());
            assertTrue(form.body().contains("name=\"username\""), "the IdP asks to sign in again: " + form.uri());
            HttpResponse<String> r = postForm(form.uri().toString(), Map.of("username", sub, "claims", json(claims)));
            assertEquals(302, r.statusCode(), r.body());
            HttpResponse<String> page = follow(r.uri().resolve(r.headers().firstValue("Location").orElseThrow()).toString());
            assertEquals(200, page.statusCode(), page.body());
            assertEquals("/console", page.uri().getPath(), page.uri().toString());
            return lastAuthorizeQuery;
        }

        String csrf() {
            Object t = ManageBroker.json(get(fx.broker.url() + "/admin/whoami").body()).get("csrf_token");
            assertNotNull(t, "a console session has a CSRF token");
            return (String) t;
        }

        String sessionCookie() {
            return jar.getCookieStore().getCookies().stream().filter(c -> c.getName().equals("deputy_console"))
                    .map(HttpCookie::getValue).findFirst().orElseThrow();
        }
    }
}
