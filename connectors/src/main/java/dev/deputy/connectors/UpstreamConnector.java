package dev.deputy.connectors;

import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One upstream identity provider. Implementations are immutable and thread-safe; they cache discovery
 * metadata and signing keys. Every failure is a {@link ConnectorException} with a stable code.
 */
public interface UpstreamConnector {

    ConnectorConfig config();

    default String id() {
        return config().id();
    }

    /**
     * Starts a login: returns the upstream authorization URL and the {@link PendingLogin} (state, nonce,
     * PKCE verifier) that the caller must store, keyed by {@code state}, until the callback arrives.
     *
     * @param loginHint optional (OIDC Core §3.1.2.1 {@code login_hint}), may be null
     */
    LoginRequest beginLogin(URI redirectUri, String loginHint);

    default LoginRequest beginLogin(URI redirectUri) {
        return beginLogin(redirectUri, null);
    }

    /**
     * Finishes a login from the callback's query parameters and the state stored by {@link #beginLogin}.
     * Checks state, handles error responses, redeems the code (PKCE + configured client auth), validates
     * the ID token, optionally calls userinfo, and applies the claim and role mapping.
     */
    UpstreamIdentity completeLogin(Map<String, List<String>> callbackParams, PendingLogin stored);

    /**
     * Validates a JWT issued by this connector's IdP (e.g. a token-exchange subject token): signature,
     * issuer, audience (one of {@code acceptedAudiences}; empty means this connector's client_id), expiry.
     */
    UpstreamIdentity validateUpstreamToken(String jwt, TokenKind kind, Set<String> acceptedAudiences);

    /** Live checks for {@code deputy connector test}: never throws, lists every problem found. */
    ConnectorTestReport test();

    enum TokenKind {
        ID_TOKEN, ACCESS_TOKEN;

        /**
         * The kind of a JWT, decided from the token and never from a caller's label: {@code typ: at+jwt} is an
         * access token (RFC 9068 §2.1); a token carrying what only ID tokens carry ({@code nonce}, {@code at_hash},
         * {@code c_hash}, {@code auth_time}, OIDC Core §2, §3.1.3.6, §3.3.2.11; Keycloak's {@code typ: ID}) is an ID
         * token, and so is one its sender calls an ID token; anything else is an access token. Unparseable: null.
         */
        public static TokenKind of(String jwt, boolean labelledIdToken) {
            try {
                com.nimbusds.jwt.JWT parsed = com.nimbusds.jwt.JWTParser.parse(jwt);
                com.nimbusds.jose.JOSEObjectType typ = parsed.getHeader().getType();
                if (typ != null && (typ.getType().equalsIgnoreCase("at+jwt")
                        || typ.getType().equalsIgnoreCase("application/at+jwt"))) {
                    return ACCESS_TOKEN;
                }
                com.nimbusds.jwt.JWTClaimsSet c = parsed.getJWTClaimsSet();
                boolean idClaims = c.getClaim("nonce") != null || c.getClaim("at_hash") != null
                        || c.getClaim("c_hash") != null || c.getClaim("auth_time") != null
                        || "ID".equals(c.getClaim("typ"));
                return idClaims || labelledIdToken ? ID_TOKEN : ACCESS_TOKEN;
            } catch (java.text.ParseException e) {
                return null;
            }
        }
    }
}
