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

    enum TokenKind { ID_TOKEN, ACCESS_TOKEN }
}
