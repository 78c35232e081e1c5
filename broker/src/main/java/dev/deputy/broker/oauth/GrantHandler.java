package dev.deputy.broker.oauth;

/**
 * One grant type at the token endpoint (RFC 6749 §4, RFC 7523, RFC 8693, …). Each grant is one class found
 * by its {@link #grantType()}: adding a grant edits no existing class. The pipeline has already parsed
 * the request (Nimbus {@code TokenRequest}) and authenticated the client before {@link #handle} runs; the
 * handler checks its own grant, applies policy, mints, and says what to audit.
 *
 * <p>Errors: throw {@link OAuthException} with the RFC's error code, the client-facing description and the internal
 * audit reason ({@link OAuthException#of}); the {@link ClientFrontDoor} renders it and writes its one audit entry. A
 * handler never audits a failure itself. Shared pieces (resource, agent scopes, user claims, the response) are in
 * {@link GrantSupport}; Deputy's own tokens are checked with {@link DeputyTokens}.
 */
public interface GrantHandler {
    /** The {@code grant_type} value, e.g. {@code client_credentials}, {@code urn:ietf:params:oauth:grant-type:token-exchange}. */
    String grantType();

    TokenResult handle(TokenContext context);
}
