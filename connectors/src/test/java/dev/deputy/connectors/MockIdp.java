package dev.deputy.connectors;

import com.nimbusds.oauth2.sdk.TokenRequest;
import com.nimbusds.oauth2.sdk.util.URLUtils;
import no.nav.security.mock.oauth2.MockOAuth2Server;
import no.nav.security.mock.oauth2.OAuth2Config;
import no.nav.security.mock.oauth2.http.OAuth2HttpResponseKt;
import no.nav.security.mock.oauth2.http.OAuth2HttpRouterKt;
import no.nav.security.mock.oauth2.http.Route;
import no.nav.security.mock.oauth2.http.WellKnown;
import no.nav.security.mock.oauth2.token.OAuth2TokenCallback;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A real mock-oauth2-server on loopback playing several vendors at once, one issuer id per vendor shape.
 * Issuer shapes that mock-oauth2-server cannot produce itself (Auth0's trailing slash, Entra's
 * {@code {tenantid}} template) are served by an extra route that rewrites only the discovery document's
 * {@code issuer}; the tokens then carry the vendor's {@code iss} through a token callback claim
 * (callback claims are applied after the mock's defaults, so they override {@code iss}, {@code aud}, {@code nonce}).
 */
final class MockIdp implements AutoCloseable {

    static final String ENTRA_ID = "organizations/v2.0";

    final MockOAuth2Server server;
    private final HttpClient http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build();

    MockIdp(Route... extra) {
        List<Route> routes = new ArrayList<>(List.of(
                discovery("auth0", iss -> iss + "/"),
                discovery(ENTRA_ID, iss -> iss.replace("/organizations/v2.0", "/{tenantid}/v2.0"))));
        routes.addAll(List.of(extra));
        server = new MockOAuth2Server(new OAuth2Config(), routes.toArray(Route[]::new));
        server.start();
    }

    /** Serves mock-oauth2-server's own discovery document for {@code issuerId} with a rewritten issuer. */
    @SuppressWarnings("unchecked")
    static Route discovery(String issuerId, UnaryOperator<String> issuer) {
        return OAuth2HttpRouterKt.route("/" + issuerId + "/.well-known/openid-configuration", req -> {
            WellKnown wk = req.toWellKnown();
            Map<String, Object> doc = new LinkedHashMap<>(OAuth2HttpResponseKt.getObjectMapper().convertValue(wk, Map.class));
            doc.put("issuer", issuer.apply(wk.getIssuer()));
            return OAuth2HttpResponseKt.json(doc);
        });
    }

    String issuer(String issuerId) {
        return server.issuerUrl(issuerId).toString();
    }

    String base() {
        String b = server.baseUrl().toString();
        return b.endsWith("/") ? b.substring(0, b.length() - 1) : b;
    }

    /** The next token request at {@code issuerId} issues tokens for {@code sub} with these extra/overriding claims. */
    void enqueue(String issuerId, String sub, Map<String, Object> claims) {
        enqueue(issuerId, sub, claims, 3600);
    }

    void enqueue(String issuerId, String sub, Map<String, Object> claims, long expirySeconds) {
        server.enqueueCallback(new Callback(issuerId, sub, claims, expirySeconds));
    }

    /** Drives the (non-interactive) authorize endpoint and returns the callback query parameters. */
    Map<String, List<String>> authorize(URI authorizationUri) throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(authorizationUri).GET().build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(302, r.statusCode(), "authorize should redirect back: " + r.body());
        URI location = URI.create(r.headers().firstValue("Location").orElseThrow());
        return URLUtils.parseParameters(location.getRawQuery());
    }

    @Override
    public void close() {
        server.shutdown();
    }

    /** Full control over what the mock puts in the ID and access tokens. */
    record Callback(String issuerId, String sub, Map<String, Object> claims, long expiry) implements OAuth2TokenCallback {
        @Override
        public String subject(TokenRequest tokenRequest) {
            return sub;
        }

        @Override
        public String typeHeader(TokenRequest tokenRequest) {
            return "JWT";
        }

        @Override
        public List<String> audience(TokenRequest tokenRequest) {
            return List.of("api://deputy");
        }

        @Override
        public Map<String, Object> addClaims(TokenRequest tokenRequest) {
            return claims;
        }

        @Override
        public long tokenExpiry() {
            return expiry;
        }
    }
}
