package dev.deputy.broker.authorize;

import com.nimbusds.oauth2.sdk.OAuth2Error;
import dev.deputy.broker.federation.FedFixture;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The authorization responses built from Nimbus's types: RFC 6749 §4.1.2 / §4.1.2.1, RFC 9207 §2. */
class CodeIssuanceTest {
    static final String ISS = "https://deputy.example/t/acme";

    static Map<String, String> q(AuthorizeOutcome o) {
        return FedFixture.query(((AuthorizeOutcome.Redirect) o).location().toString());
    }

    @Test
    void errorRedirectKeepsTheClientsQueryTheExactStateAndTheIssuer() {
        AuthorizeOutcome o = CodeIssuance.errorRedirect("https://app.example/cb?x=1&y=%C3%A9", OAuth2Error.INVALID_SCOPE
                .setDescription("none of the requested scopes is allowed"), "  lead & trail é漢 +=/?  ", ISS, List.of());
        String location = ((AuthorizeOutcome.Redirect) o).location().toString();
        assertTrue(location.startsWith("https://app.example/cb?x=1&y=%C3%A9&"), location);
        Map<String, String> q = q(o);
        assertEquals("1", q.get("x"));
        assertEquals("invalid_scope", q.get("error"));
        assertEquals("none of the requested scopes is allowed", q.get("error_description"));
        assertEquals("  lead & trail é漢 +=/?  ", q.get("state"));
        assertEquals(ISS, q.get("iss"));
    }

    @Test
    void errorDescriptionIsLimitedToItsCharacterSet() {
        // a parser's message quoting the bad value: Nimbus would refuse it as a description (a 500); it is cleaned
        AuthorizeErrors.RedirectError e = new AuthorizeErrors.RedirectError(OAuth2Error.INVALID_REQUEST,
                "upstream said \"no\" \\ zoë\n", "test");
        AuthorizeOutcome o = CodeIssuance.errorRedirect("http://127.0.0.1:4711/cb", e.error, null, ISS, List.of());
        Map<String, String> q = q(o);
        assertEquals("upstream said _no_ _ zo__", q.get("error_description"));
        assertEquals(null, q.get("state"));
        assertEquals(ISS, q.get("iss"));
    }
}
