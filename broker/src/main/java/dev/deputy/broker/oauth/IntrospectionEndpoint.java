package dev.deputy.broker.oauth;

import com.nimbusds.oauth2.sdk.ErrorObject;
import com.nimbusds.oauth2.sdk.OAuth2Error;
import com.nimbusds.oauth2.sdk.http.HTTPRequest;
import com.nimbusds.jwt.JWTClaimsSet;
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

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.Optional;

/**
 * Token introspection (RFC 7662). Only authenticated clients of the tenant may ask (§2.1); the answer is
 * {@code active:false} for anything that is not a valid, unrevoked Deputy token of this tenant whose agents are
 * all active (§2.2: no reason is given to the caller, the audit log has it).
 */
@Singleton
public class IntrospectionEndpoint {
    private static final Logger LOG = LoggerFactory.getLogger(IntrospectionEndpoint.class);
    private static final String[] ECHOED = {"scope", "client_id", "sub", "aud", "exp", "iat", "nbf", "iss", "jti",
            "act", "cnf", "sub_id", "may_act"};

    private final ClientAuthPipeline clientAuth;
    private final Endpoints endpoints;
    private final AccessTokenValidator validator;
    private final Revocations revocations;
    private final AgentTokenState agents;
    private final AuditLog audit;

    public IntrospectionEndpoint(ClientAuthPipeline clientAuth, Endpoints endpoints, AccessTokenValidator validator,
                                 Revocations revocations, AgentTokenState agents, AuditLog audit) {
        this.clientAuth = clientAuth;
        this.endpoints = endpoints;
        this.validator = validator;
        this.revocations = revocations;
        this.agents = agents;
        this.audit = audit;
    }

    public EndpointResponse handle(Tenant tenant, HTTPRequest request, RequestMeta meta) {
        AuthenticatedClient caller = null;
        try {
            FormParameters.requireSingle(request, Set.of()); // RFC 6749 §3.2 (RFC 7662 §2.1 / RFC 7009 §2.1 forms)
            caller = clientAuth.authenticate(tenant, endpoints.issuer(tenant.id()), request);
            // RFC 7662 §2.1: token REQUIRED
            String token = ClientAuthPipeline.required(request, "token");
            Inspection i = inspect(tenant.id(), token);
            if (i.reason() != null) {
                audit.append(AuditEvent.of(tenant.id(), EventTypes.TOKEN_INTROSPECTED_INACTIVE, AuditEvent.Outcome.INFO)
                        .client(caller.clientId()).agent(caller.agentId()).request(meta)
                        .detail("active", false).detail("reason", i.reason())
                        .detail("jti", i.claims() == null ? null : i.claims().getJWTID())
                        .build());
                return EndpointResponse.ok(Map.of("active", false));
            }
            return EndpointResponse.ok(activeBody(i.claims()));
        } catch (OAuthException e) {
            rejected(tenant, request, meta, caller, EventTypes.INTROSPECTION_REJECTED, e.error());
            return EndpointResponse.error(e.error());
        } catch (ServiceUnavailableException e) {
            throw e;
        } catch (RuntimeException e) {
            LOG.error("introspection failure (tenant {})", tenant.id(), e);
            return EndpointResponse.error(OAuth2Error.SERVER_ERROR.setDescription("unexpected error"));
        }
    }

    /** A token's claims when valid, and why it is not active otherwise. */
    public record Inspection(JWTClaimsSet claims, String reason) {
    }

    public Inspection inspect(String tenantId, String token) {
        AccessTokenValidator.Result r = validator.validate(tenantId, token);
        if (!r.valid()) {
            return new Inspection(null, r.invalid().name().toLowerCase());
        }
        JWTClaimsSet c = r.claims();
        if (revocations.isRevoked(tenantId, c.getJWTID())) {
            return new Inspection(c, "revoked");
        }
        Optional<String> agentProblem = agents.problem(tenantId, c);
        return new Inspection(c, agentProblem.orElse(null));
    }

    private static Map<String, Object> activeBody(JWTClaimsSet c) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("active", true);
        Map<String, Object> all = c.toJSONObject();
        for (String k : ECHOED) {
            Object v = all.get(k);
            if (v != null) {
                if ("aud".equals(k) && v instanceof java.util.List<?> l && l.size() == 1) {
                    v = l.get(0);
                }
                body.put(k, v);
            }
        }
        // RFC 7662 §2.2 token_type (RFC 6749 §7.1): DPoP-bound tokens are DPoP, others Bearer
        Object cnf = all.get("cnf");
        body.put("token_type", cnf instanceof Map<?, ?> m && m.containsKey("jkt") ? "DPoP" : "Bearer");
        return body;
    }

    void rejected(Tenant tenant, HTTPRequest request, RequestMeta meta, AuthenticatedClient caller, String type,
                  ErrorObject error) {
        String claimed = caller != null ? caller.clientId() : ClientAuthPipeline.claimedClientId(request);
        try {
            audit.append(AuditEvent.of(tenant.id(), type, AuditEvent.Outcome.FAILURE)
                    .client(claimed).agent(caller != null ? caller.agentId() : claimed).request(meta)
                    .detail("error", error.getCode()).detail("reason", error.getDescription())
                    .build());
        } catch (RuntimeException e) {
            LOG.warn("could not audit {} (tenant {}): {}", type, tenant.id(), e.toString());
        }
    }
}
