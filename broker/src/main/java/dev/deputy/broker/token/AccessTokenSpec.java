package dev.deputy.broker.token;

import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * What an access token says (RFC 9068), before it is signed.
 *
 * @param subject        {@code sub}: the agent id (agent acting alone) or the upstream user's sub, byte for byte
 * @param subjectIssuer  for a user: the upstream {@code iss}, giving {@code sub_id = {format: iss_sub, iss, sub}}
 *                       (RFC 9493); null for an agent acting alone
 * @param actorChain     the acting agents, outermost first: {@code [B, A]} gives {@code act: {sub: B, act: {sub: A}}}
 * @param audience       the one resource the token is for (RFC 8707)
 * @param certThumbprint {@code cnf.x5t#S256} (RFC 8705) when the client used mTLS
 * @param jkt            {@code cnf.jkt} (RFC 9449) with DPoP
 * @param ttl            lifetime; the minter never exceeds the tenant's access token lifetime
 * @param extraClaims    further claims (mapped user claims, {@code may_act}); may not override the ones above
 */
public record AccessTokenSpec(String tenantId, String subject, String subjectIssuer, List<String> actorChain,
                              String clientId, String audience, List<String> scopes, String certThumbprint, String jkt,
                              Duration ttl, Map<String, Object> extraClaims) {
    public AccessTokenSpec {
        actorChain = actorChain == null ? List.of() : List.copyOf(actorChain);
        scopes = scopes == null ? List.of() : List.copyOf(scopes);
        extraClaims = extraClaims == null ? Map.of() : Map.copyOf(extraClaims);
    }
}
