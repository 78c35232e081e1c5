package dev.deputy.broker.oauth;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jwt.SignedJWT;
import com.nimbusds.oauth2.sdk.OAuth2Error;
import com.nimbusds.oauth2.sdk.ParseException;
import com.nimbusds.oauth2.sdk.TokenRequest;
import com.nimbusds.oauth2.sdk.auth.ClientAuthentication;
import com.nimbusds.oauth2.sdk.auth.JWTAuthentication;
import com.nimbusds.oauth2.sdk.http.HTTPRequest;
import com.nimbusds.oauth2.sdk.util.URLUtils;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * {@link ClientAuthPipeline#parse} and {@link TokenRequests#parse} against Nimbus's own
 * {@code ClientAuthentication.parse} and {@code TokenRequest.parse}, on one matrix of token requests: the same
 * client authentication, the same token request (compared through its serialisation), the same error code.
 */
class TokenRequestsTest {
    static final URI ENDPOINT = URI.create("https://deputy.test/t/demo/token");
    static final String JWT_BEARER = JWTAuthentication.CLIENT_ASSERTION_TYPE;
    static final JWK EC = TestKeys.ec();
    static final JWK RSA = TestKeys.rsa();
    static final KeyPair CERT_KEY = TestKeys.ecKeyPair("secp256r1");
    static final X509Certificate CERT = TestKeys.selfSigned(CERT_KEY, "agent");

    record Case(String name, String body, Consumer<HTTPRequest> extra) {
    }

    static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    static String assertion(JWK key, String clientId) {
        return TestKeys.sign(key, TestKeys.claims(clientId, ENDPOINT.toString()).build());
    }

    static String hmacAssertion() throws Exception {
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.HS256).type(JOSEObjectType.JWT).build(),
                TestKeys.claims("agent-hs", ENDPOINT.toString()).build());
        jwt.sign(new MACSigner(new byte[32]));
        return jwt.serialize();
    }

    static String pkj(String assertion) {
        return "client_assertion_type=" + enc(JWT_BEARER) + "&client_assertion=" + assertion;
    }

    static List<Case> cases() throws Exception {
        String ec = assertion(EC, "agent-ec");
        String basic = "Basic " + Base64.getEncoder().encodeToString("client-1:secret".getBytes(StandardCharsets.UTF_8));
        Consumer<HTTPRequest> none = r -> {
        };
        List<Case> c = new ArrayList<>();
        c.add(new Case("pk_jwt cc", "grant_type=client_credentials&" + pkj(ec), none));
        c.add(new Case("pk_jwt cc scope resource custom", "grant_type=client_credentials&scope=a%20b&resource="
                + enc("https://files.example.com/mcp") + "&foo=bar&Client_Secret=x&" + pkj(ec), none));
        c.add(new Case("pk_jwt with matching client_id", "grant_type=client_credentials&client_id=agent-ec&" + pkj(ec), none));
        c.add(new Case("pk_jwt with another client_id", "grant_type=client_credentials&client_id=other&" + pkj(ec), none));
        c.add(new Case("pk_jwt rs256 exchange", "grant_type=" + enc("urn:ietf:params:oauth:grant-type:token-exchange")
                + "&subject_token=abc&subject_token_type=" + enc("urn:ietf:params:oauth:token-type:access_token")
                + "&audience=x&audience=y&resource=" + enc("https://a.example/") + "&resource=" + enc("https://b.example/")
                + "&requested_token_type=" + enc("urn:ietf:params:oauth:token-type:access_token") + "&"
                + pkj(assertion(RSA, "agent-rsa")), none));
        c.add(new Case("pk_jwt wrong assertion type", "grant_type=client_credentials&client_assertion_type=urn%3Ax&client_assertion=" + ec, none));
        c.add(new Case("pk_jwt blank assertion type", "grant_type=client_credentials&client_assertion_type=&client_assertion=" + ec, none));
        c.add(new Case("pk_jwt garbage", "grant_type=client_credentials&" + pkj("not.a.jwt"), none));
        c.add(new Case("pk_jwt alg none", "grant_type=client_credentials&" + pkj("eyJhbGciOiJub25lIn0.eyJzdWIiOiJhIiwiaXNzIjoiYSJ9."), none));
        c.add(new Case("client_secret_jwt", "grant_type=client_credentials&" + pkj(hmacAssertion()), none));
        c.add(new Case("pk_jwt and client_secret", "grant_type=client_credentials&client_id=agent-ec&client_secret=s&" + pkj(ec), none));
        c.add(new Case("pk_jwt and basic", "grant_type=client_credentials&" + pkj(ec), r -> r.setAuthorization(basic)));
        c.add(new Case("pk_jwt and a certificate", "grant_type=client_credentials&client_id=agent-ec&" + pkj(ec),
                r -> r.setClientX509Certificate(CERT)));
        c.add(new Case("pk_jwt repeated scope", "grant_type=client_credentials&scope=a&scope=b&" + pkj(ec), none));
        c.add(new Case("pk_jwt fragment resource", "grant_type=client_credentials&resource=" + enc("https://a.example/#f") + "&" + pkj(ec), none));
        c.add(new Case("pk_jwt relative resource", "grant_type=client_credentials&resource=files&" + pkj(ec), none));
        c.add(new Case("pk_jwt bad resource", "grant_type=client_credentials&resource=" + enc("http://a b") + "&" + pkj(ec), none));
        c.add(new Case("pk_jwt rar", "grant_type=client_credentials&authorization_details="
                + enc("[{\"type\":\"files\",\"actions\":[\"read\"]}]") + "&" + pkj(ec), none));
        c.add(new Case("pk_jwt bad rar", "grant_type=client_credentials&authorization_details=%5B1&" + pkj(ec), none));
        c.add(new Case("pk_jwt unknown grant", "grant_type=urn%3Aexample%3Anope&" + pkj(ec), none));
        c.add(new Case("pk_jwt no grant", pkj(ec), none));
        c.add(new Case("pk_jwt jwt-bearer", "grant_type=" + enc("urn:ietf:params:oauth:grant-type:jwt-bearer")
                + "&assertion=" + assertion(RSA, "idp") + "&scope=x&" + pkj(ec), none));
        c.add(new Case("basic refresh", "grant_type=refresh_token&refresh_token=rt-1&scope=a", r -> r.setAuthorization(basic)));
        c.add(new Case("post auth code", "grant_type=authorization_code&code=c1&redirect_uri=" + enc("https://app.example/cb")
                + "&code_verifier=" + "v".repeat(43) + "&client_id=client-1&client_secret=secret", none));
        c.add(new Case("public auth code", "grant_type=authorization_code&code=c1&redirect_uri=" + enc("https://app.example/cb")
                + "&code_verifier=" + "v".repeat(43) + "&client_id=mcp&resource=" + enc("https://files.example.com/mcp"), none));
        c.add(new Case("public auth code without client_id", "grant_type=authorization_code&code=c1&code_verifier=" + "v".repeat(43), none));
        c.add(new Case("public refresh with existing_grant and device_secret", "grant_type=refresh_token&refresh_token=rt"
                + "&client_id=mcp&existing_grant=eg&device_secret=ds", none));
        c.add(new Case("cc without authentication", "grant_type=client_credentials&scope=a", none));
        c.add(new Case("tls client auth", "grant_type=client_credentials&client_id=agent-tls", r -> r.setClientX509Certificate(CERT)));
        c.add(new Case("empty body", "", none));
        return c;
    }

    static HTTPRequest request(Case c) {
        HTTPRequest r = new HTTPRequest(HTTPRequest.Method.POST, ENDPOINT);
        r.setHeader("Content-Type", "application/x-www-form-urlencoded");
        r.setBody(c.body());
        c.extra().accept(r);
        return r;
    }

    @Test
    void clientAuthenticationIsNimbusOwn() throws Exception {
        for (Case c : cases()) {
            ClientAuthentication nimbus;
            try {
                nimbus = ClientAuthentication.parse(request(c));
            } catch (ParseException e) {
                try {
                    ClientAuthPipeline.parse(request(c));
                    fail(c.name() + ": Nimbus refused it (" + e.getMessage() + "), the pipeline did not");
                } catch (OAuthException expected) {
                    assertNotNull(expected.error().getCode(), c.name());
                }
                continue;
            }
            ClientAuthentication ours = ClientAuthPipeline.parse(request(c));
            if (nimbus == null) {
                assertNull(ours, c.name());
                continue;
            }
            assertEquals(nimbus.getClass(), ours.getClass(), c.name());
            assertEquals(nimbus.getClientID(), ours.getClientID(), c.name());
            assertEquals(nimbus.getMethod(), ours.getMethod(), c.name());
            if (nimbus instanceof JWTAuthentication n) {
                assertEquals(n.getClientAssertion().serialize(), ((JWTAuthentication) ours).getClientAssertion().serialize());
                assertEquals(n.getJWTAuthenticationClaimsSet().toJSONObject(),
                        ((JWTAuthentication) ours).getJWTAuthenticationClaimsSet().toJSONObject(), c.name());
            }
        }
    }

    @Test
    void tokenRequestIsNimbusOwn() throws Exception {
        int compared = 0;
        int refused = 0;
        for (Case c : cases()) {
            ClientAuthentication auth;
            try {
                auth = ClientAuthPipeline.parse(request(c));
            } catch (OAuthException e) {
                continue; // the token endpoint answers invalid_client before the token request matters
            }
            TokenRequest nimbus;
            try {
                nimbus = TokenRequest.parse(request(c));
            } catch (ParseException e) {
                try {
                    TokenRequests.parse(request(c), auth);
                    fail(c.name() + ": Nimbus refused it (" + e.getMessage() + "), TokenRequests did not");
                } catch (OAuthException ours) {
                    // a ParseException without an error object is invalid_request at the endpoint (RFC 6749 §5.2)
                    var expected = e.getErrorObject() != null ? e.getErrorObject() : OAuth2Error.INVALID_REQUEST;
                    assertEquals(expected.getCode(), ours.error().getCode(), c.name());
                    assertEquals(expected.getHTTPStatusCode(), ours.error().getHTTPStatusCode(), c.name());
                }
                refused++;
                continue;
            }
            TokenRequest ours = TokenRequests.parse(request(c), auth);
            HTTPRequest a = nimbus.toHTTPRequest();
            HTTPRequest b = ours.toHTTPRequest();
            assertEquals(URLUtils.parseParameters(a.getBody()), URLUtils.parseParameters(b.getBody()), c.name());
            assertEquals(a.getAuthorization(), b.getAuthorization(), c.name());
            assertEquals(nimbus.getEndpointURI(), ours.getEndpointURI(), c.name());
            assertEquals(nimbus.getClientID(), ours.getClientID(), c.name());
            assertEquals(nimbus.getScope(), ours.getScope(), c.name());
            assertEquals(nimbus.getResources(), ours.getResources(), c.name());
            assertEquals(nimbus.getCustomParameters(), ours.getCustomParameters(), c.name());
            assertEquals(nimbus.getExistingGrant(), ours.getExistingGrant(), c.name());
            assertEquals(nimbus.getDeviceSecret(), ours.getDeviceSecret(), c.name());
            assertEquals(nimbus.getAuthorizationGrant().toParameters(), ours.getAuthorizationGrant().toParameters(), c.name());
            compared++;
        }
        assertTrue(compared >= 12 && refused >= 6, compared + " compared, " + refused + " refused");
    }

    @Test
    void theUsualAssertionIsParsedIntoAPrivateKeyJwt() throws Exception {
        ClientAuthentication auth = ClientAuthPipeline.parse(request(cases().get(0)));
        assertInstanceOf(com.nimbusds.oauth2.sdk.auth.PrivateKeyJWT.class, auth);
        assertEquals("agent-ec", auth.getClientID().getValue());
        assertEquals(Map.of(), TokenRequests.parse(request(cases().get(0)), auth).getCustomParameters());
    }
}
