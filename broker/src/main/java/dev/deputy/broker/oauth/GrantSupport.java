package dev.deputy.broker.oauth;

import com.nimbusds.oauth2.sdk.AccessTokenResponse;
import com.nimbusds.oauth2.sdk.OAuth2Error;
import com.nimbusds.oauth2.sdk.Scope;
import com.nimbusds.oauth2.sdk.token.BearerAccessToken;
import com.nimbusds.oauth2.sdk.token.RefreshToken;
import com.nimbusds.oauth2.sdk.token.TokenTypeURI;
import com.nimbusds.oauth2.sdk.token.Tokens;
import dev.deputy.broker.agent.Agent;
import dev.deputy.broker.agent.Resource;
import dev.deputy.broker.agent.ResourceIndicators;
import dev.deputy.broker.agent.Role;
import dev.deputy.broker.federation.User;
import dev.deputy.broker.token.MintedToken;
import jakarta.inject.Singleton;

import java.net.URI;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The grant support kit: what every grant handler needs and none should write again. The RFC 8707 resource of
 * the request ({@link ResourceIndicators}, the one resolver), the scopes an agent's roles grant, the claims a
 * user's token carries, and the typed token response (Nimbus {@link AccessTokenResponse}).
 */
@Singleton
public class GrantSupport {
    private final AgentDirectory directory;

    public GrantSupport(AgentDirectory directory) {
        this.directory = directory;
    }

    /** RFC 8707 §2: the one resource the request names ({@code resource}, and RFC 8693 {@code audience}), or the default. */
    public Resource resource(TokenContext ctx, List<String> audiences) {
        try {
            return ResourceIndicators.resolve(directory.resources(ctx.tenant().id()), requested(ctx), audiences);
        } catch (ResourceIndicators.Refused e) {
            throw OAuthException.of(OAuth2Error.INVALID_TARGET, e.getMessage(), e.reason());
        }
    }

    /** The resource the request names by {@code resource}, or the default. */
    public Resource resource(TokenContext ctx) {
        return resource(ctx, (List<String>) null);
    }

    /** The same for a resource named by the grant itself (an ID-JAG's {@code resource} claim). */
    public Resource namedResource(TokenContext ctx, String named) {
        try {
            return ResourceIndicators.resolve(directory.resources(ctx.tenant().id()),
                    named == null ? List.of() : List.of(named), null);
        } catch (ResourceIndicators.Refused e) {
            throw OAuthException.of(OAuth2Error.INVALID_TARGET, e.getMessage(), e.reason());
        }
    }

    /** RFC 8707 §2.2: a grant bound to a resource (code, refresh token) accepts only that one. */
    public static void requireBound(TokenContext ctx, String bound) {
        try {
            ResourceIndicators.requireBound(requested(ctx), bound);
        } catch (ResourceIndicators.Refused e) {
            throw OAuthException.of(OAuth2Error.INVALID_TARGET, e.getMessage(), e.reason());
        }
    }

    /** The {@code resource} parameters of the token request. */
    public static List<String> requested(TokenContext ctx) {
        List<URI> r = ctx.request().getResources();
        return r == null ? List.of() : r.stream().map(URI::toString).toList();
    }

    /** The scopes the agent's roles grant in its environment, in role order. */
    public Set<String> agentScopes(String tenantId, Agent agent) {
        Set<String> out = new java.util.LinkedHashSet<>();
        for (Role r : directory.roles(tenantId)) {
            if (agent.roles().contains(r.name()) && r.appliesIn(agent.environment())) {
                out.addAll(r.scopes());
            }
        }
        return out;
    }

    /** The user claims a token about the user carries: {@code email}, {@code name}, {@code groups}. */
    public static Map<String, Object> userClaims(User u) {
        Map<String, Object> claims = new LinkedHashMap<>();
        if (u.email() != null) {
            claims.put("email", u.email());
        }
        if (u.name() != null) {
            claims.put("name", u.name());
        }
        if (!u.groups().isEmpty()) {
            claims.put("groups", u.groups());
        }
        return claims;
    }

    /** RFC 6749 §5.1: a Bearer access token, its lifetime and scope, and a refresh token if any. */
    public static AccessTokenResponse response(MintedToken at, Collection<String> scopes, String refreshToken) {
        return response(at, scopes, refreshToken, null);
    }

    /** The same with RFC 8693 §2.2.1 {@code issued_token_type}. */
    public static AccessTokenResponse response(MintedToken at, Collection<String> scopes, String refreshToken,
                                               TokenTypeURI issuedType) {
        Scope scope = scopes == null || scopes.isEmpty() ? null : new Scope(scopes.toArray(String[]::new));
        BearerAccessToken token = new BearerAccessToken(at.token(), at.expiresIn(), scope, issuedType);
        return new AccessTokenResponse(new Tokens(token, refreshToken == null ? null : new RefreshToken(refreshToken)));
    }
}
