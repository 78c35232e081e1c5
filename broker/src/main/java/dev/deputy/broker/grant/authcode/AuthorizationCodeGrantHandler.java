package dev.deputy.broker.grant.authcode;

import com.nimbusds.oauth2.sdk.AuthorizationCodeGrant;
import com.nimbusds.oauth2.sdk.OAuth2Error;
import com.nimbusds.oauth2.sdk.pkce.CodeChallenge;
import com.nimbusds.oauth2.sdk.pkce.CodeChallengeMethod;
import com.nimbusds.oauth2.sdk.pkce.CodeVerifier;
import dev.deputy.broker.audit.AuditEvent;
import dev.deputy.broker.audit.AuditEvent.Outcome;
import dev.deputy.broker.federation.AuthorizationCodes;
import dev.deputy.broker.federation.CodeGrant;
import dev.deputy.broker.federation.User;
import dev.deputy.broker.federation.UserStore;
import dev.deputy.broker.grant.refresh.RefreshTokens;
import dev.deputy.broker.oauth.ClientAuthPipeline;
import dev.deputy.broker.oauth.DeputyTokens;
import dev.deputy.broker.oauth.GrantHandler;
import dev.deputy.broker.oauth.GrantSupport;
import dev.deputy.broker.oauth.OAuthException;
import dev.deputy.broker.oauth.TokenContext;
import dev.deputy.broker.oauth.TokenResult;
import dev.deputy.broker.token.AccessTokenSpec;
import dev.deputy.broker.token.AccessTokens;
import dev.deputy.broker.token.MintedToken;
import dev.deputy.broker.token.Revocations;
import jakarta.inject.Singleton;

import java.net.URI;
import java.security.MessageDigest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * {@code grant_type=authorization_code} (OAuth 2.1 §4.1.3, RFC 7636 §4.5–4.6, RFC 8707 §2.2). The code is
 * redeemed once; a replay is refused and revokes what the code issued (OAuth 2.1 §4.1.3). The access token
 * carries the upstream {@code sub} unchanged and {@code sub_id} (RFC 9493 iss_sub).
 */
@Singleton
public class AuthorizationCodeGrantHandler implements GrantHandler {
    private final AuthorizationCodes codes;
    private final UserStore users;
    private final AccessTokens tokens;
    private final RefreshTokens refreshTokens;
    private final Revocations revocations;
    private final DeputyTokens deputyTokens;

    public AuthorizationCodeGrantHandler(AuthorizationCodes codes, UserStore users, AccessTokens tokens,
                                         RefreshTokens refreshTokens, Revocations revocations, DeputyTokens deputyTokens) {
        this.codes = codes;
        this.users = users;
        this.tokens = tokens;
        this.refreshTokens = refreshTokens;
        this.revocations = revocations;
        this.deputyTokens = deputyTokens;
    }

    @Override
    public String grantType() {
        return "authorization_code";
    }

    @Override
    public TokenResult handle(TokenContext ctx) {
        if (!(ctx.request().getAuthorizationGrant() instanceof AuthorizationCodeGrant grant)) {
            throw new OAuthException(OAuth2Error.INVALID_GRANT, "not an authorization code grant");
        }
        String tenantId = ctx.tenant().id();
        String clientId = ctx.client().clientId();
        String code = grant.getAuthorizationCode().getValue();
        Duration markerTtl = AuthorizationCodes.CODE_TTL.plus(ctx.tenant().accessTokenTtl()).plusSeconds(60);
        Optional<CodeGrant> redeemed = codes.redeem(tenantId, code, markerTtl);
        if (redeemed.isEmpty()) {
            Optional<AuthorizationCodes.Redeemed> replay = codes.replay(tenantId, code, markerTtl);
            if (replay.isPresent()) {
                // OAuth 2.1 §4.1.3: a code used twice is refused and the tokens it issued are revoked
                AuthorizationCodes.Redeemed r = replay.get();
                revocations.revoke(tenantId, r.accessJti(), r.accessExpiresAt() == null ? null
                        : Instant.ofEpochMilli(r.accessExpiresAt()));
                int family = refreshTokens.revokeFamily(tenantId, r.familyId());
                throw refused(OAuth2Error.INVALID_GRANT, "authorization code already used", "code_replayed")
                        .detail("revoked_access_jti", r.accessJti() != null).detail("revoked_refresh_tokens", family);
            }
            throw refused(OAuth2Error.INVALID_GRANT, "unknown or expired authorization code", "unknown_code");
        }
        CodeGrant g = redeemed.get();
        // RFC 6749 §4.1.3: the code was issued to this client
        if (!g.tenantId().equals(tenantId) || !g.clientId().equals(clientId)) {
            throw refused(OAuth2Error.INVALID_GRANT, "the code was issued to another client", "client_mismatch");
        }
        // RFC 6749 §4.1.3: redirect_uri identical to the authorization request's
        URI redirect = grant.getRedirectionURI();
        if (g.redirectUriGiven() ? redirect == null || !redirect.toString().equals(g.redirectUri())
                : redirect != null && !redirect.toString().equals(g.redirectUri())) {
            throw refused(OAuth2Error.INVALID_GRANT, "redirect_uri does not match the authorization request",
                    "redirect_uri_mismatch");
        }
        // RFC 7636 §4.5/§4.6 (OAuth 2.1 §4.1.3): code_verifier REQUIRED, S256 of it must equal the challenge
        CodeVerifier verifier = grant.getCodeVerifier();
        if (verifier == null) {
            throw refused(OAuth2Error.INVALID_GRANT, "code_verifier required", "pkce_missing");
        }
        String computed = CodeChallenge.compute(CodeChallengeMethod.S256, verifier).getValue();
        if (!MessageDigest.isEqual(computed.getBytes(StandardCharsets.US_ASCII), g.codeChallenge().getBytes(StandardCharsets.US_ASCII))) {
            throw refused(OAuth2Error.INVALID_GRANT, "code_verifier does not match the code_challenge", "pkce_mismatch");
        }
        // RFC 8707 §2.2: a resource at the token endpoint must be one the grant covers
        GrantSupport.requireBound(ctx, g.resource());
        Optional<User> user = users.find(tenantId, g.userId());
        if (user.isEmpty() || !user.get().active()) {
            throw refused(OAuth2Error.INVALID_GRANT, "the user is not active", "user_inactive");
        }
        List<String> actors = ctx.client().agentId() == null ? List.of() : List.of(ctx.client().agentId());
        if (g.actor() != null) {
            // on-behalf-of: the code was requested for an agent; the client proves it with that agent's own, active
            // token (the one verifier and activity rule: signature, revocation, the agent's state)
            String actorToken = ClientAuthPipeline.param(ctx.httpRequest(), "actor_token");
            DeputyTokens.Verdict v = actorToken == null ? null : deputyTokens.check(tenantId, actorToken);
            if (v == null || !v.active() || !g.actor().equals(v.claims().getSubject())
                    || v.claims().getClaim("sub_id") != null) {
                throw refused(OAuth2Error.INVALID_GRANT, "actor_token of the requested actor is required",
                        "actor_token_invalid").detail("requested_actor", g.actor())
                        .detail("actor_token", v == null ? "missing" : v.inactive());
            }
            actors = List.of(g.actor());
        }
        MintedToken at = tokens.mint(AccessTokenSpec.of(tenantId, clientId).user(g.subject(), g.subjectIssuer())
                .actors(actors).audience(g.resource()).scopes(g.scopes()).boundTo(ctx.client().certThumbprint())
                .claims(g.claims()).build());
        long now = System.currentTimeMillis();
        // RFC 8693 §4.1 / RFC 9700 §4.14: the actor is bound to the refresh family, so every refresh names it again
        String refresh = refreshTokens.issue(tenantId, g.familyId(), clientId, g.userId(), g.resource(), g.scopes(),
                actors.isEmpty() ? null : actors.get(0), at.jti(), at.expiresAt(), now);
        if (codes.recordIssued(tenantId, code, at.jti(), at.expiresAt(), markerTtl)) {
            // a replay arrived while we were minting: what we just issued is revoked too
            revocations.revoke(tenantId, at.jti(), at.expiresAt());
            refreshTokens.revokeFamily(tenantId, g.familyId());
            throw refused(OAuth2Error.INVALID_GRANT, "authorization code already used", "code_replayed");
        }
        AuditEvent ev = AuditEvent.of(tenantId, "token.issued", Outcome.SUCCESS).subject(g.subject(), g.subjectIssuer())
                .actors(actors).agent(ctx.client().agentId()).client(clientId).resource(g.resource())
                .scopes(String.join(" ", g.scopes())).request(ctx.meta()).detail("grant_type", grantType())
                .detail("jti", at.jti()).detail("user_id", g.userId()).detail("refresh_family", g.familyId()).build();
        return new TokenResult(GrantSupport.response(at, g.scopes(), refresh), ev);
    }

    private static OAuthException refused(com.nimbusds.oauth2.sdk.ErrorObject error, String description, String reason) {
        return OAuthException.of(error, description, reason);
    }
}
