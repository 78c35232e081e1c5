package dev.deputy.broker.federation;

import java.util.List;
import java.util.Map;

/**
 * What an authorization code is bound to (OAuth 2.1 §4.1.2 / RFC 7636 §4.4 / RFC 8707 §2.1): the client, the
 * redirect URI, the PKCE S256 challenge, the resource, the user and the granted scopes.
 *
 * @param subject       upstream {@code sub}, byte for byte
 * @param subjectIssuer upstream {@code iss}
 * @param claims        mapped user claims for the access token ({@code email}, {@code name}, {@code groups})
 * @param familyId      the refresh token family this code starts (pre-chosen so a replay can revoke it)
 * @param actor         the agent the code was requested for ({@code requested_actor}); the token request must
 *                      prove it with that agent's {@code actor_token}, and the token carries it as {@code act}
 */
public record CodeGrant(String tenantId, String clientId, String redirectUri, boolean redirectUriGiven,
                        String codeChallenge, String resource, String userId, String subject, String subjectIssuer,
                        List<String> scopes, Map<String, Object> claims, long authTime, String familyId,
                        String actor) {
    public CodeGrant {
        scopes = scopes == null ? List.of() : List.copyOf(scopes);
        claims = claims == null ? Map.of() : Map.copyOf(claims);
    }
}
