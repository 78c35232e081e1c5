package dev.deputy.broker.oauth;

import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.oauth2.sdk.TokenIntrospectionSuccessResponse;
import com.nimbusds.oauth2.sdk.http.HTTPRequest;
import dev.deputy.broker.audit.AuditEvent;
import dev.deputy.broker.audit.AuditLog;
import dev.deputy.broker.audit.EventTypes;
import dev.deputy.broker.audit.RequestMeta;
import dev.deputy.broker.tenant.Tenant;
import jakarta.inject.Singleton;

import java.util.List;
import java.util.Map;

/**
 * Token introspection (RFC 7662), behind the {@link ClientFrontDoor}: only authenticated, confidential clients of
 * the tenant may ask (§2.1), and only those on the tenant's allow-list when it has one (§4). The answer is
 * {@code active:false} for anything that is not an active Deputy token of this tenant by {@link DeputyTokens}' one
 * rule (§2.2: no reason is given to the caller, the audit log has it).
 */
@Singleton
public class IntrospectionEndpoint {
    private static final String[] ECHOED = {"scope", "client_id", "sub", "aud", "exp", "iat", "nbf", "iss", "jti",
            "act", "cnf", "sub_id", "may_act"};
    private static final Map<String, Object> INACTIVE = Map.of("active", false);

    private final ClientFrontDoor door;
    private final DeputyTokens tokens;
    private final AuditLog audit;

    public IntrospectionEndpoint(ClientFrontDoor door, DeputyTokens tokens, AuditLog audit) {
        this.door = door;
        this.tokens = tokens;
        this.audit = audit;
    }

    public EndpointResponse handle(Tenant tenant, HTTPRequest request, RequestMeta meta) {
        return door.serve(ClientFrontDoor.Endpoint.INTROSPECTION, tenant, request, meta, call -> {
            // RFC 7662 §2.1: token REQUIRED
            String token = ClientAuthPipeline.required(call.request(), "token");
            DeputyTokens.Verdict v = tokens.check(tenant.id(), token);
            if (!v.active()) {
                audit.append(AuditEvent.of(tenant.id(), EventTypes.TOKEN_INTROSPECTED_INACTIVE, AuditEvent.Outcome.INFO)
                        .client(call.client().clientId()).agent(call.client().agentId()).request(meta)
                        .detail("active", false).detail("reason", v.inactive())
                        .detail("jti", v.claims() == null ? null : v.claims().getJWTID())
                        .build());
                return EndpointResponse.ok(INACTIVE);
            }
            return EndpointResponse.ok(activeBody(v.claims()));
        });
    }

    /** RFC 7662 §2.2, built with Nimbus's {@link TokenIntrospectionSuccessResponse}. */
    static Map<String, Object> activeBody(JWTClaimsSet c) {
        TokenIntrospectionSuccessResponse.Builder b = new TokenIntrospectionSuccessResponse.Builder(true);
        Map<String, Object> all = c.toJSONObject();
        for (String k : ECHOED) {
            Object v = all.get(k);
            if (v != null) {
                if ("aud".equals(k) && v instanceof List<?> l && l.size() == 1) {
                    v = l.get(0);
                }
                b.parameter(k, v);
            }
        }
        // RFC 7662 §2.2 token_type (RFC 6749 §7.1): DPoP-bound tokens are DPoP, others Bearer
        b.parameter("token_type", DeputyTokens.keyBinding(c) != null ? "DPoP" : "Bearer");
        return b.build().toJSONObject();
    }
}
