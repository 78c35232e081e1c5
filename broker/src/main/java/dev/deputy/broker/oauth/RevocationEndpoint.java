package dev.deputy.broker.oauth;

import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.oauth2.sdk.http.HTTPRequest;
import dev.deputy.broker.audit.AuditEvent;
import dev.deputy.broker.audit.AuditLog;
import dev.deputy.broker.audit.EventTypes;
import dev.deputy.broker.audit.RequestMeta;
import dev.deputy.broker.tenant.Tenant;
import dev.deputy.broker.token.AccessTokenValidator;
import dev.deputy.broker.token.Revocations;
import jakarta.inject.Singleton;

import java.util.Map;

/**
 * Token revocation (RFC 7009) of Deputy access tokens, behind the {@link ClientFrontDoor}: the caller must be an
 * authenticated, confidential client (§2.1). The token is revoked only when the caller is its client
 * ({@code client_id}) or an agent the token names ({@code sub} of an agent token, or any {@code act.sub}); otherwise
 * the request is ignored. Either way the answer is 200 (§2.2), also for unknown, invalid or expired tokens.
 */
@Singleton
public class RevocationEndpoint {
    private final ClientFrontDoor door;
    private final AccessTokenValidator validator;
    private final Revocations revocations;
    private final AuditLog audit;

    public RevocationEndpoint(ClientFrontDoor door, AccessTokenValidator validator, Revocations revocations,
                              AuditLog audit) {
        this.door = door;
        this.validator = validator;
        this.revocations = revocations;
        this.audit = audit;
    }

    public EndpointResponse handle(Tenant tenant, HTTPRequest request, RequestMeta meta) {
        return door.serve(ClientFrontDoor.Endpoint.REVOCATION, tenant, request, meta, call -> {
            AuthenticatedClient caller = call.client();
            // RFC 7009 §2.1: token REQUIRED; token_type_hint is optional and we need none (one token format)
            String token = ClientAuthPipeline.required(call.request(), "token");
            // signature and lifetime only: a revoked token or a suspended agent's token may still be revoked
            AccessTokenValidator.Result r = validator.validate(tenant.id(), token);
            if (!r.valid()) {
                // RFC 7009 §2.2: invalid tokens do not cause an error response
                audit(tenant, caller, meta, EventTypes.TOKEN_REVOCATION_IGNORED, null, r.invalid().name().toLowerCase());
                return EndpointResponse.ok(Map.of());
            }
            JWTClaimsSet c = r.claims();
            boolean owner = caller.clientId().equals(c.getClaim("client_id"))
                    || (caller.agentId() != null && AgentTokenState.agents(c).contains(caller.agentId()));
            if (!owner) {
                // RFC 7009 §2.1: a token issued to another client is not revoked (and nothing is said about it)
                audit(tenant, caller, meta, EventTypes.TOKEN_REVOCATION_IGNORED, c, "not_owner");
                return EndpointResponse.ok(Map.of());
            }
            revocations.revoke(tenant.id(), c.getJWTID(), c.getExpirationTime().toInstant());
            audit(tenant, caller, meta, EventTypes.TOKEN_REVOKED, c, null);
            return EndpointResponse.ok(Map.of());
        });
    }

    private void audit(Tenant tenant, AuthenticatedClient caller, RequestMeta meta, String type, JWTClaimsSet c,
                       String reason) {
        AuditEvent.Builder b = AuditEvent.of(tenant.id(), type,
                        EventTypes.TOKEN_REVOKED.equals(type) ? AuditEvent.Outcome.SUCCESS : AuditEvent.Outcome.INFO)
                .client(caller.clientId()).agent(caller.agentId()).request(meta).detail("reason", reason);
        if (c != null) {
            b.detail("jti", c.getJWTID()).detail("token_client_id", c.getClaim("client_id"))
                    .actors(AgentTokenState.actorChain(c));
            if (c.getClaim("sub_id") != null) {
                b.subject(c.getSubject(), null);
            } else {
                b.detail("token_sub", c.getSubject());
            }
        }
        audit.append(b.build());
    }
}
