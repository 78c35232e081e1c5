package dev.deputy.broker.grant.ciba;

import com.nimbusds.oauth2.sdk.ErrorObject;
import com.nimbusds.oauth2.sdk.OAuth2Error;
import com.nimbusds.oauth2.sdk.ciba.CIBAError;
import com.nimbusds.oauth2.sdk.ciba.CIBAGrant;
import com.nimbusds.oauth2.sdk.device.DeviceAuthorizationGrantError;
import dev.deputy.broker.audit.AuditEvent;
import dev.deputy.broker.audit.AuditEvent.Outcome;
import dev.deputy.broker.audit.EventTypes;
import dev.deputy.broker.federation.User;
import dev.deputy.broker.federation.UserStore;
import dev.deputy.broker.governance.ApprovalSettings;
import dev.deputy.broker.governance.Approvals;
import dev.deputy.broker.oauth.GrantHandler;
import dev.deputy.broker.oauth.GrantSupport;
import dev.deputy.broker.oauth.OAuthException;
import dev.deputy.broker.oauth.TokenContext;
import dev.deputy.broker.oauth.TokenResult;
import dev.deputy.broker.token.AccessTokenSpec;
import dev.deputy.broker.token.AccessTokens;
import dev.deputy.broker.token.MintedToken;
import jakarta.inject.Singleton;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/**
 * {@code grant_type=urn:openid:params:grant-type:ciba} (OpenID CIBA Core 1.0 §10.1, §11): the client redeems the
 * {@code auth_req_id} of a request its user approved. While the user has not decided: {@code authorization_pending},
 * or {@code slow_down} when the client polls faster than the request's {@code interval}; a denial is
 * {@code access_denied}, a lapsed request {@code expired_token}; an unknown id, another client's, or one already
 * redeemed is {@code invalid_grant}. The access token is bound to the one transaction: {@code sub} the user (upstream,
 * unchanged, with {@code sub_id}), {@code act} the requesting agents, {@code aud} the resource,
 * {@code authorization_details} as approved (RFC 9396 §7), the tenant's {@code approvals.token_ttl} (at most 5 min), no
 * refresh token; the decision endpoint consumes it on first use.
 */
@Singleton
public class CibaGrantHandler implements GrantHandler {
    public static final String GRANT_TYPE = "urn:openid:params:grant-type:ciba";

    private final Approvals approvals;
    private final ApprovalSettings settings;
    private final UserStore users;
    private final AccessTokens tokens;

    public CibaGrantHandler(Approvals approvals, ApprovalSettings settings, UserStore users, AccessTokens tokens) {
        this.approvals = approvals;
        this.settings = settings;
        this.users = users;
        this.tokens = tokens;
    }

    @Override
    public String grantType() {
        return GRANT_TYPE;
    }

    @Override
    public TokenResult handle(TokenContext ctx) {
        if (!(ctx.request().getAuthorizationGrant() instanceof CIBAGrant grant)) {
            throw new OAuthException(OAuth2Error.INVALID_GRANT, "not a CIBA grant");
        }
        String tenantId = ctx.tenant().id();
        String clientId = ctx.client().clientId();
        Approvals.Poll poll = approvals.poll(tenantId, clientId, grant.getAuthRequestID().getValue());
        Approvals.Pending p = switch (poll) {
            case Approvals.Poll.Unknown u -> throw refused(OAuth2Error.INVALID_GRANT, "unknown auth_req_id", "unknown_auth_req_id");
            // CIBA §11: the auth_req_id was issued to another client
            case Approvals.Poll.OtherClient o -> throw refused(OAuth2Error.INVALID_GRANT, "unknown auth_req_id",
                    "client_mismatch");
            case Approvals.Poll.Waiting w when w.tooFast() -> throw refused(DeviceAuthorizationGrantError.SLOW_DOWN,
                    "polling faster than the interval", "slow_down");
            case Approvals.Poll.Waiting w -> throw refused(DeviceAuthorizationGrantError.AUTHORIZATION_PENDING,
                    "the user has not decided yet", "authorization_pending");
            case Approvals.Poll.Denied d -> throw refused(OAuth2Error.ACCESS_DENIED.setHTTPStatusCode(400),
                    "the user denied the request", "approval_denied");
            case Approvals.Poll.Expired e -> throw refused(CIBAError.EXPIRED_TOKEN, "the auth_req_id has expired",
                    "approval_expired");
            case Approvals.Poll.Used used -> throw refused(OAuth2Error.INVALID_GRANT, "auth_req_id already used",
                    "auth_req_id_used");
            case Approvals.Poll.Granted g -> g.pending();
        };
        // the user must still be active when the token is issued
        Optional<User> user = users.find(tenantId, p.userId());
        if (user.isEmpty() || !user.get().active()) {
            throw refused(OAuth2Error.INVALID_GRANT, "the user is not active", "user_inactive");
        }
        // RFC 8707 §2.2: a resource at the token endpoint must be the approved one
        GrantSupport.requireBound(ctx, p.resource());
        Duration ttl = settings.of(tenantId).tokenTtl();
        MintedToken at = tokens.mint(AccessTokenSpec.of(tenantId, clientId).user(p.subject(), p.subjectIssuer())
                .actors(p.actors()).audience(p.resource()).scopes(p.scopes()).boundTo(ctx.client().certThumbprint())
                .ttl(ttl).claims(Map.of("authorization_details", p.authorizationDetails())).build());
        AuditEvent ev = AuditEvent.of(tenantId, EventTypes.TOKEN_ISSUED, Outcome.SUCCESS).subject(p.subject(), p.subjectIssuer())
                .actors(p.actors()).agent(ctx.client().agentId()).client(clientId).resource(p.resource())
                .scopes(p.scopes().isEmpty() ? null : String.join(" ", p.scopes())).request(ctx.meta())
                .detail("grant_type", GRANT_TYPE).detail("grant", p.id()).detail("jti", at.jti())
                .detail("user_id", p.userId()).detail("exp", at.expiresAt().getEpochSecond())
                .detail("cert_bound", ctx.client().certThumbprint() != null).build();
        return new TokenResult(GrantSupport.response(at, p.scopes(), null), ev);
    }

    private static OAuthException refused(ErrorObject error, String description, String reason) {
        return OAuthException.of(error, description, reason);
    }
}
