package dev.deputy.broker.grant.refresh;

import com.nimbusds.oauth2.sdk.OAuth2Error;
import com.nimbusds.oauth2.sdk.RefreshTokenGrant;
import dev.deputy.broker.agent.ClientSecrets;
import dev.deputy.broker.agent.Resource;
import dev.deputy.broker.audit.AuditEvent;
import dev.deputy.broker.audit.AuditEvent.Outcome;
import dev.deputy.broker.audit.AuditLog;
import dev.deputy.broker.audit.AuditTransactions;
import dev.deputy.broker.audit.EventTypes;
import dev.deputy.broker.federation.User;
import dev.deputy.broker.federation.UserStore;
import dev.deputy.broker.oauth.GrantHandler;
import dev.deputy.broker.oauth.OAuthException;
import dev.deputy.broker.oauth.TokenContext;
import dev.deputy.broker.oauth.TokenResult;
import dev.deputy.broker.token.AccessTokenSpec;
import dev.deputy.broker.token.AccessTokens;
import dev.deputy.broker.token.MintedToken;
import jakarta.inject.Singleton;

import java.net.URI;
import java.util.LinkedHashMap;
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
    private final AuditLog audit;
    private final AuditTransactions audited;

    public RefreshTokenGrantHandler(RefreshTokenStore store, RefreshTokens refreshTokens, UserStore users,
                                    AccessTokens tokens, AuditLog audit, AuditTransactions audited) {
        this.store = store;
        this.refreshTokens = refreshTokens;
        this.users = users;
        this.tokens = tokens;
        this.audit = audit;
        this.audited = audited;
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
            fail(ctx, "unknown_refresh_token", null, 0);
            throw new OAuthException(OAuth2Error.INVALID_GRANT, "unknown refresh token");
        }
        RefreshToken t = found.get();
        // RFC 6749 §6 / OAuth 2.1 §4.3.1: bound to the client it was issued to
        if (!t.clientId().equals(clientId)) {
            fail(ctx, "client_mismatch", t.familyId(), 0);
            throw new OAuthException(OAuth2Error.INVALID_GRANT, "refresh token was issued to another client");
        }
        if (t.status() == RefreshToken.Status.REVOKED) {
            fail(ctx, "revoked", t.familyId(), 0);
            throw new OAuthException(OAuth2Error.INVALID_GRANT, "refresh token revoked");
        }
        long now = System.currentTimeMillis();
        if (t.status() == RefreshToken.Status.USED) {
            throw reuse(ctx, t);
        }
        if (t.expiresAt() <= now) {
            fail(ctx, "expired", t.familyId(), 0);
            throw new OAuthException(OAuth2Error.INVALID_GRANT, "refresh token expired");
        }
        // RFC 8707 §2.2: the resource must be the one the grant is bound to
        List<URI> resources = ctx.request().getResources();
        if (resources != null && !resources.isEmpty()
                && (resources.size() > 1 || !Resource.canonical(resources.get(0).toString()).equals(t.resource()))) {
            fail(ctx, "resource_mismatch", t.familyId(), 0);
            throw new OAuthException(OAuth2Error.INVALID_TARGET, "resource does not match the grant");
        }
        // RFC 6749 §6: a requested scope MUST NOT include any scope not originally granted
        List<String> scopes = t.scopes();
        if (ctx.request().getScope() != null) {
            List<String> requested = ctx.request().getScope().toStringList();
            if (!t.scopes().containsAll(requested)) {
                fail(ctx, "scope_widening", t.familyId(), 0);
                throw new OAuthException(OAuth2Error.INVALID_SCOPE, "scope exceeds the original grant");
            }
            scopes = requested;
        }
        Optional<User> user = users.find(tenantId, t.userId());
        if (user.isEmpty() || !user.get().active()) {
            fail(ctx, "user_inactive", t.familyId(), 0);
            throw new OAuthException(OAuth2Error.INVALID_GRANT, "the user is not active");
        }
        User u = user.get();
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
        List<String> actors = ctx.client().agentId() == null ? List.of() : List.of(ctx.client().agentId());
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
                MintedToken at = tokens.mint(new AccessTokenSpec(tenantId, u.upstreamSub(), u.upstreamIss(), actors,
                        clientId, t.resource(), granted, ctx.client().certThumbprint(), null, null, claims));
                // OAuth 2.1 §4.3.1: the new refresh token keeps the original grant's scope
                String next = refreshTokens.issue(tenantId, t.familyId(), clientId, t.userId(), t.resource(), t.scopes(),
                        at.jti(), at.expiresAt(), now);
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
        MintedToken at = rotated.at();
        String next = rotated.next();
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("access_token", at.token());
        body.put("token_type", "Bearer");
        body.put("expires_in", at.expiresIn());
        if (!scopes.isEmpty()) {
            body.put("scope", String.join(" ", scopes));
        }
        body.put("refresh_token", next);
        return TokenResult.audited(body);
    }

    private OAuthException reuse(TokenContext ctx, RefreshToken t) {
        int n = refreshTokens.revokeFamily(ctx.tenant().id(), t.familyId());
        // RFC 9700 §4.14.2: reuse is a signal of theft; its own type so that it can be alerted on
        fail(ctx, EventTypes.TOKEN_REFRESH_REUSE, "refresh_token_reuse", t.familyId(), n);
        return new OAuthException(OAuth2Error.INVALID_GRANT, "refresh token already used; the grant is revoked");
    }

    private void fail(TokenContext ctx, String reason, String family, int revoked) {
        fail(ctx, EventTypes.TOKEN_REJECTED, reason, family, revoked);
    }

    private void fail(TokenContext ctx, String type, String reason, String family, int revoked) {
        audit.append(AuditEvent.of(ctx.tenant().id(), type, Outcome.FAILURE).client(ctx.client().clientId())
                .request(ctx.meta()).detail("grant_type", grantType()).detail("reason", reason)
                .detail("refresh_family", family).detail("revoked_refresh_tokens", revoked > 0 ? revoked : null).build());
    }
}
