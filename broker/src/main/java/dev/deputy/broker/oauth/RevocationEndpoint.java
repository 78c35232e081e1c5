package dev.deputy.broker.oauth;

import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.oauth2.sdk.OAuth2Error;
import com.nimbusds.oauth2.sdk.http.HTTPRequest;
import dev.deputy.broker.audit.AuditEvent;
import dev.deputy.broker.audit.AuditLog;
import dev.deputy.broker.audit.EventTypes;
import dev.deputy.broker.audit.RequestMeta;
import dev.deputy.broker.health.ServiceUnavailableException;
import dev.deputy.broker.tenant.Tenant;
import dev.deputy.broker.token.AccessTokenValidator;
import dev.deputy.broker.token.Revocations;
import jakarta.inject.Singleton;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Map;
import java.util.Set;

/**
 * Token revocation (RFC 7009) of Deputy access tokens. The caller must authenticate (§2.1); the token is revoked
 * only when the caller is its client ({@code client_id}) or an agent the token names ({@code sub} of an agent
 * token, or any {@code act.sub}); otherwise the request is ignored. Either way the answer is 200 (§2.2), also for
 * unknown, invalid or expired tokens.
 */
@Singleton
public class RevocationEndpoint {
    private static final Logger LOG = LoggerFactory.getLogger(RevocationEndpoint.class);

    private final ClientAuthPipeline clientAuth;
    private final Endpoints endpoints;
    private final AccessTokenValidator validator;
    private final Revocations revocations;
    private final IntrospectionEndpoint introspection;
    private final AuditLog audit;

    public RevocationEndpoint(ClientAuthPipeline clientAuth, Endpoints endpoints, AccessTokenValidator validator,
                              Revocations revocations, IntrospectionEndpoint introspection, AuditLog audit) {
        this.clientAuth = clientAuth;
        this.endpoints = endpoints;
        this.validator = validator;
        this.revocations = revocations;
        this.introspection = introspection;
        this.audit = audit;
    }

    public EndpointResponse handle(Tenant tenant, HTTPRequest request, RequestMeta meta) {
        AuthenticatedClient caller = null;
        try {
            FormParameters.requireSingle(request, Set.of()); // RFC 6749 §3.2 (RFC 7662 §2.1 / RFC 7009 §2.1 forms)
            caller = clientAuth.authenticate(tenant, endpoints.issuer(tenant.id()), request);
            // RFC 7009 §2.1: token REQUIRED; token_type_hint is optional and we need none (one token format)
            String token = ClientAuthPipeline.required(request, "token");
            AccessTokenValidator.Result r = validator.validate(tenant.id(), token);
            if (!r.valid()) {
                // RFC 7009 §2.2: invalid tokens do not cause an error response
                audit(tenant, caller, meta, "token.revocation.ignored", null, r.invalid().name().toLowerCase());
                return EndpointResponse.ok(Map.of());
            }
            JWTClaimsSet c = r.claims();
            boolean owner = caller.clientId().equals(c.getClaim("client_id"))
                    || (caller.agentId() != null && AgentTokenState.agents(c).contains(caller.agentId()));
            if (!owner) {
                // RFC 7009 §2.1: a token issued to another client is not revoked (and nothing is said about it)
                audit(tenant, caller, meta, "token.revocation.ignored", c, "not_owner");
                return EndpointResponse.ok(Map.of());
            }
            revocations.revoke(tenant.id(), c.getJWTID(), c.getExpirationTime().toInstant());
            audit(tenant, caller, meta, "token.revoked", c, null);
            return EndpointResponse.ok(Map.of());
        } catch (OAuthException e) {
            introspection.rejected(tenant, request, meta, caller, EventTypes.REVOCATION_REJECTED, e.error());
            return EndpointResponse.error(e.error());
        } catch (ServiceUnavailableException e) {
            throw e;
        } catch (RuntimeException e) {
            LOG.error("revocation failure (tenant {})", tenant.id(), e);
            return EndpointResponse.error(OAuth2Error.SERVER_ERROR.setDescription("unexpected error"));
        }
    }

    private void audit(Tenant tenant, AuthenticatedClient caller, RequestMeta meta, String type, JWTClaimsSet c,
                       String reason) {
        AuditEvent.Builder b = AuditEvent.of(tenant.id(), type,
                        "token.revoked".equals(type) ? AuditEvent.Outcome.SUCCESS : AuditEvent.Outcome.INFO)
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
