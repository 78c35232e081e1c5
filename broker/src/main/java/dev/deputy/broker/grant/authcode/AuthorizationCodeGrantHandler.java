package dev.deputy.broker.grant.authcode;

import com.nimbusds.oauth2.sdk.AuthorizationCodeGrant;
import com.nimbusds.oauth2.sdk.OAuth2Error;
import com.nimbusds.oauth2.sdk.pkce.CodeChallenge;
import com.nimbusds.oauth2.sdk.pkce.CodeChallengeMethod;
import com.nimbusds.oauth2.sdk.pkce.CodeVerifier;
import dev.deputy.broker.agent.Resource;
import dev.deputy.broker.audit.AuditEvent;
import dev.deputy.broker.audit.AuditEvent.Outcome;
import dev.deputy.broker.audit.AuditLog;
import dev.deputy.broker.federation.AuthorizationCodes;
import dev.deputy.broker.federation.CodeGrant;
import dev.deputy.broker.federation.User;
import dev.deputy.broker.federation.UserStore;
import dev.deputy.broker.grant.refresh.RefreshTokens;
import dev.deputy.broker.oauth.GrantHandler;
import dev.deputy.broker.oauth.OAuthException;
import dev.deputy.broker.oauth.TokenContext;
import dev.deputy.broker.oauth.TokenResult;
import dev.deputy.broker.token.AccessTokenSpec;
import dev.deputy.broker.token.AccessTokens;
import dev.deputy.broker.token.MintedToken;
import dev.deputy.broker.token.Revocations;
import dev.deputy.broker.token.DeputyTokenVerifier;
import dev.deputy.broker.oauth.AgentDirectory;
import jakarta.inject.Singleton;

import java.net.URI;
import java.security.MessageDigest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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
    private final AuditLog audit;
    private final DeputyTokenVerifier actorTokens;
    private final AgentDirectory agentDirectory;

    public AuthorizationCodeGrantHandler(AuthorizationCodes codes, UserStore users, AccessTokens tokens,
                                         RefreshTokens refreshTokens, Revocations revocations, AuditLog audit,
                                         DeputyTokenVerifier actorTokens, AgentDirectory agentDirectory) {
        this.actorTokens = actorTokens;
        this.agentDirectory = agentDirectory;
        this.codes = codes;
        this.users = users;
        this.tokens = tokens;
        this.refreshTokens = refreshTokens;
        this.revocations = revocations;
        this.audit = audit;
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
                fail(ctx, "code_replayed", Map.of("revoked_access_jti", r.accessJti() != null,
                        "revoked_refresh_tokens", family));
                throw new OAuthException(OAuth2Error.INVALID_GRANT, "authorization code already used");
            }
            fail(ctx, "unknown_code", Map.of());
            throw new OAuthException(OAuth2Error.INVALID_GRANT, "unknown or expired authorization code");
        }
        CodeGrant g = redeemed.get();
        // RFC 6749 §4.1.3: the code was issued to this client
        if (!g.tenantId().equals(tenantId) || !g.clientId().equals(clientId)) {
            fail(ctx, "client_mismatch", Map.of());
            throw new OAuthException(OAuth2Error.INVALID_GRANT, "the code was issued to another client");
        }
        // RFC 6749 §4.1.3: redirect_uri identical to the authorization request's
        URI redirect = grant.getRedirectionURI();
        if (g.redirectUriGiven() ? redirect == null || !redirect.toString().equals(g.redirectUri())
                : redirect != null && !redirect.toString().equals(g.redirectUri())) {
            fail(ctx, "redirect_uri_mismatch", Map.of());
            throw new OAuthException(OAuth2Error.INVALID_GRANT, "redirect_uri does not match the authorization request");
        }
        // RFC 7636 §4.5/§4.6 (OAuth 2.1 §4.1.3): code_verifier REQUIRED, S256 of it must equal the challenge
        CodeVerifier verifier = grant.getCodeVerifier();
        if (verifier == null) {
            fail(ctx, "pkce_missing", Map.of());
            throw new OAuthException(OAuth2Error.INVALID_GRANT, "code_verifier required");
        }
        String computed = CodeChallenge.compute(CodeChallengeMethod.S256, verifier).getValue();
        if (!MessageDigest.isEqual(computed.getBytes(StandardCharsets.US_ASCII), g.codeChallenge().getBytes(StandardCharsets.US_ASCII))) {
            fail(ctx, "pkce_mismatch", Map.of());
            throw new OAuthException(OAuth2Error.INVALID_GRANT, "code_verifier does not match the code_challenge");
        }
        // RFC 8707 §2.2: a resource at the token endpoint must be one the grant covers
        List<URI> resources = ctx.request().getResources();
        if (resources != null && !resources.isEmpty()
                && (resources.size() > 1 || !Resource.canonical(resources.get(0).toString()).equals(g.resource()))) {
            fail(ctx, "resource_mismatch", Map.of());
            throw new OAuthException(OAuth2Error.INVALID_TARGET, "resource does not match the authorization request");
        }
        Optional<User> user = users.find(tenantId, g.userId());
        if (user.isEmpty() || !user.get().active()) {
            fail(ctx, "user_inactive", Map.of());
            throw new OAuthException(OAuth2Error.INVALID_GRANT, "the user is not active");
        }
        List<String> actors = ctx.client().agentId() == null ? List.of() : List.of(ctx.client().agentId());
        if (g.actor() != null) {
            // on-behalf-of: the code was requested for an agent; the client proves it with that agent's own token
            String actorToken;
            try {
                actorToken = ctx.httpRequest().getBodyAsFormParameters().getOrDefault("actor_token", List.of()).stream()
                        .findFirst().orElse(null);
            } catch (com.nimbusds.oauth2.sdk.ParseException e) {
                actorToken = null;
            }
            Optional<DeputyTokenVerifier.Verified> v = actorToken == null ? Optional.empty()
                    : actorTokens.tryVerify(tenantId, actorToken);
            if (v.isEmpty() || !g.actor().equals(v.get().claims().getSubject()) || v.get().claims().getClaim("sub_id") != null
                    || revocations.isRevoked(tenantId, v.get().claims().getJWTID())
                    || agentDirectory.agent(tenantId, g.actor()).filter(dev.deputy.broker.agent.Agent::active).isEmpty()) {
                fail(ctx, "actor_token_invalid", Map.of("requested_actor", g.actor()));
                throw new OAuthException(OAuth2Error.INVALID_GRANT, "actor_token of the requested actor is required");
            }
            actors = List.of(g.actor());
        }
        MintedToken at = tokens.mint(new AccessTokenSpec(tenantId, g.subject(), g.subjectIssuer(), actors, clientId,
                g.resource(), g.scopes(), ctx.client().certThumbprint(), null, null, g.claims()));
        long now = System.currentTimeMillis();
        String refresh = refreshTokens.issue(tenantId, g.familyId(), clientId, g.userId(), g.resource(), g.scopes(),
                at.jti(), at.expiresAt(), now);
        if (codes.recordIssued(tenantId, code, at.jti(), at.expiresAt(), markerTtl)) {
            // a replay arrived while we were minting: what we just issued is revoked too
            revocations.revoke(tenantId, at.jti(), at.expiresAt());
            refreshTokens.revokeFamily(tenantId, g.familyId());
            fail(ctx, "code_replayed", Map.of());
            throw new OAuthException(OAuth2Error.INVALID_GRANT, "authorization code already used");
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("access_token", at.token());
        body.put("token_type", "Bearer");
        body.put("expires_in", at.expiresIn());
        if (!g.scopes().isEmpty()) {
            body.put("scope", String.join(" ", g.scopes()));
        }
        body.put("refresh_token", refresh);
        AuditEvent ev = AuditEvent.of(tenantId, "token.issued", Outcome.SUCCESS).subject(g.subject(), g.subjectIssuer())
                .actors(actors).agent(ctx.client().agentId()).client(clientId).resource(g.resource())
                .scopes(String.join(" ", g.scopes())).request(ctx.meta()).detail("grant_type", grantType())
                .detail("jti", at.jti()).detail("user_id", g.userId()).detail("refresh_family", g.familyId()).build();
        return new TokenResult(body, ev);
    }

    private void fail(TokenContext ctx, String reason, Map<String, Object> details) {
        AuditEvent.Builder b = AuditEvent.of(ctx.tenant().id(), "token.rejected", Outcome.FAILURE)
                .client(ctx.client().clientId()).request(ctx.meta()).detail("grant_type", grantType())
                .detail("reason", reason);
        details.forEach(b::detail);
        audit.append(b.build());
    }
}
