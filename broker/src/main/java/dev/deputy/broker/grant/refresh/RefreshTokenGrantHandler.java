package dev.deputy.broker.grant.refresh;

import com.nimbusds.oauth2.sdk.OAuth2Error;
import com.nimbusds.oauth2.sdk.RefreshTokenGrant;
import dev.deputy.broker.agent.ClientSecrets;
import dev.deputy.broker.audit.AuditEvent;
import dev.deputy.broker.audit.AuditEvent.Outcome;
import dev.deputy.broker.audit.AuditTransactions;
import dev.deputy.broker.audit.EventTypes;
import dev.deputy.broker.federation.User;
import dev.deputy.broker.federation.UserStore;
import dev.deputy.broker.oauth.AgentTokenState;
import dev.deputy.broker.oauth.GrantHandler;
import dev.deputy.broker.oauth.GrantSupport;
import dev.deputy.broker.oauth.OAuthException;
import dev.deputy.broker.oauth.TokenContext;
import dev.deputy.broker.oauth.TokenResult;
import dev.deputy.broker.token.AccessTokenSpec;
import dev.deputy.broker.token.AccessTokens;
import dev.deputy.broker.token.MintedToken;
import jakarta.inject.Singleton;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * {@code grant_type=refresh_token} (OAuth 2.1 §4.3, RFC 6749 §6). Refresh tokens are bound to the client and
 * the resource, rotated on every use (OAuth 2.1 §4.3.1); presenting a used one revokes the whole family and
 * the access tokens it issued (OAuth 2.1 §4.3.1, RFC 9700 §4.14.2).
 */
@Singleton
public class RefreshTokenGrantHandler implements GrantHandler {
    private final RefreshTokenStore store;
    private final RefreshTokens refreshTokens;
    private final UserStore users;
    private final AccessTokens tokens;
    private final AuditTransactions audited;
    private final AgentTokenState agents;

    public RefreshTokenGrantHandler(RefreshTokenStore store, RefreshTokens refreshTokens, UserStore users,
                                    AccessTokens tokens, AuditTransactions audited, AgentTokenState agents) {
        this.store = store;
        this.refreshTokens = refreshTokens;
        this.users = users;
        this.tokens = tokens;
        this.audited = audited;
        this.agents = agents;
    }

    /** The presented token was used already (a concurrent rotation won): thrown out of the transaction. */
    private static final class AlreadyUsed extends RuntimeException {
        AlreadyUsed() {
            super(null, null, false, false);
        }
    }

    @Override
    public String grantType() {
        return "refresh_token";
    }

    @Override
    public TokenResult handle(TokenContext ctx) {
        if (!(ctx.request().getAuthorizationGrant() instanceof RefreshTokenGrant grant)) {
            throw new OAuthException(OAuth2Error.INVALID_GRANT, "not a refresh token grant");
        }
        String tenantId = ctx.tenant().id();
        String clientId = ctx.client().clientId();
        String hash = ClientSecrets.sha256Hex(grant.getRefreshToken().getValue());
        Optional<RefreshToken> found = store.find(hash).filter(t -> t.tenantId().equals(tenantId));
        if (found.isEmpty()) {
            throw refused(OAuth2Error.INVALID_GRANT, "unknown refresh token", "unknown_refresh_token", null);
        }
        RefreshToken t = found.get();
        // RFC 6749 §6 / OAuth 2.1 §4.3.1: bound to the client it was issued to
        if (!t.clientId().equals(clientId)) {
            throw refused(OAuth2Error.INVALID_GRANT, "refresh token was issued to another client", "client_mismatch",
                    t.familyId());
        }
        if (t.status() == RefreshToken.Status.REVOKED) {
            throw refused(OAuth2Error.INVALID_GRANT, "refresh token revoked", "revoked", t.familyId());
        }
        long now = System.currentTimeMillis();
        if (t.status() == RefreshToken.Status.USED) {
            throw reuse(ctx, t);
        }
        if (t.expiresAt() <= now) {
            throw refused(OAuth2Error.INVALID_GRANT, "refresh token expired", "expired", t.familyId());
        }
        // RFC 8707 §2.2: the resource must be the one the grant is bound to
        try {
            GrantSupport.requireBound(ctx, t.resource());
        } catch (OAuthException e) {
            throw e.detail("refresh_family", t.familyId());
        }
        // RFC 6749 §6: a requested scope MUST NOT include any scope not originally granted
        List<String> scopes = t.scopes();
        if (ctx.request().getScope() != null) {
            List<String> requested = ctx.request().getScope().toStringList();
            if (!t.scopes().containsAll(requested)) {
                throw refused(OAuth2Error.INVALID_SCOPE, "scope exceeds the original grant", "scope_widening",
                        t.familyId());
            }
            scopes = requested;
        }
        Optional<User> user = users.find(tenantId, t.userId());
        if (user.isEmpty() || !user.get().active()) {
            throw refused(OAuth2Error.INVALID_GRANT, "the user is not active", "user_inactive", t.familyId());
        }
        // RFC 8693 §4.1, RFC 9700 §4.14: the family's actor acts again; a suspended or revoked agent stops its
        // refresh tokens at once (older families, issued before the actor was bound, fall back to the client's agent)
        String actor = t.actor() != null ? t.actor() : ctx.client().agentId();
        if (actor != null && !agents.active(tenantId, actor)) {
            throw refused(OAuth2Error.INVALID_GRANT, "the acting agent is not active", "actor_inactive", t.familyId())
                    .detail("actor", actor);
        }
        User u = user.get();
        Map<String, Object> claims = GrantSupport.userClaims(u);
        List<String> actors = actor == null ? List.of() : List.of(actor);
        List<String> granted = scopes;
        // The rotation (old token used, new one stored) and its audit entry commit in one transaction: a token
        // is answered only when both are durable, and a failed audit append leaves the old token usable.
        record Rotated(MintedToken at, String next) {
        }
        Rotated rotated;
        try {
            rotated = audited.run(tenantId, tx -> {
                // single use: of concurrent rotations exactly one wins; the others are reuse
                if (!store.markUsed(hash, now)) {
                    throw new AlreadyUsed();
                }
                MintedToken at = tokens.mint(AccessTokenSpec.of(tenantId, clientId).user(u.upstreamSub(), u.upstreamIss())
                        .actors(actors).audience(t.resource()).scopes(granted).boundTo(ctx.client().certThumbprint())
                        .claims(claims).build());
                // OAuth 2.1 §4.3.1: the new refresh token keeps the original grant's scope (and its actor)
                String next = refreshTokens.issue(tenantId, t.familyId(), clientId, t.userId(), t.resource(), t.scopes(),
                        actor, at.jti(), at.expiresAt(), now);
                tx.append(AuditEvent.of(tenantId, EventTypes.TOKEN_REFRESHED, Outcome.SUCCESS)
                        .subject(u.upstreamSub(), u.upstreamIss()).actors(actors).agent(ctx.client().agentId())
                        .client(clientId).resource(t.resource()).scopes(String.join(" ", granted)).request(ctx.meta())
                        .detail("grant_type", grantType()).detail("jti", at.jti()).detail("user_id", u.id())
                        .detail("refresh_family", t.familyId()).build());
                return new Rotated(at, next);
            });
        } catch (AlreadyUsed e) {
            throw reuse(ctx, t);
        }
        return TokenResult.audited(GrantSupport.response(rotated.at(), scopes, rotated.next()));
    }

    /** RFC 9700 §4.14.2: reuse is a signal of theft; its own audit type so that it can be alerted on. */
    private OAuthException reuse(TokenContext ctx, RefreshToken t) {
        int n = refreshTokens.revokeFamily(ctx.tenant().id(), t.familyId());
        return refused(OAuth2Error.INVALID_GRANT, "refresh token already used; the grant is revoked",
                "refresh_token_reuse", t.familyId()).auditType(EventTypes.TOKEN_REFRESH_REUSE)
                .detail("revoked_refresh_tokens", n > 0 ? n : null);
    }

    private static OAuthException refused(com.nimbusds.oauth2.sdk.ErrorObject error, String description, String reason,
                                          String family) {
        return OAuthException.of(error, description, reason).detail("refresh_family", family);
    }
}
