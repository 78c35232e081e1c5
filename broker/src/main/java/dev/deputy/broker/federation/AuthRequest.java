package dev.deputy.broker.federation;

import java.util.List;

/**
 * A validated authorization request (OAuth 2.1 §4.1.1), carried through the upstream login and consent.
 *
 * @param redirectUri      the redirect URI the code goes to
 * @param redirectUriGiven whether the request named it (then the token request must repeat it, RFC 6749 §4.1.3)
 * @param resource         the RFC 8707 resource as registered (canonical), bound to the code
 * @param resourceId       its id in the resource registry
 * @param requestedActor   the agent the client will act through ({@code requested_actor}), bound to the code; null if none
 * @param uiLocales        OIDC Core §3.1.2.1 {@code ui_locales} as received (the pages' language after the upstream
 *                         round trip); null if none
 */
public record AuthRequest(String clientId, String redirectUri, boolean redirectUriGiven, String state,
                          String codeChallenge, List<String> scopes, String resource, String resourceId,
                          String loginHint, String prompt, String requestedActor, String uiLocales) {
    public AuthRequest {
        scopes = scopes == null ? List.of() : List.copyOf(scopes);
    }
}
