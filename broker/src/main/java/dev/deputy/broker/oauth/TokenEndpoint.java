package dev.deputy.broker.oauth;

import com.nimbusds.oauth2.sdk.OAuth2Error;
import com.nimbusds.oauth2.sdk.TokenRequest;
import com.nimbusds.oauth2.sdk.http.HTTPRequest;
import dev.deputy.broker.audit.AuditLog;
import dev.deputy.broker.audit.RequestMeta;
import dev.deputy.broker.tenant.Tenant;
import dev.deputy.broker.tracing.Traces;
import jakarta.inject.Singleton;

import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The token endpoint (RFC 6749 §3.2), behind the {@link ClientFrontDoor}: find the {@link GrantHandler} by grant
 * type (before anything costly) → the door authenticates the client → parse (Nimbus {@code TokenRequest}) →
 * handle → audit the success → answer. Every refusal is an {@link OAuthException}; the door writes its one
 * {@code token.rejected} entry.
 */
@Singleton
public class TokenEndpoint {
    private final Map<String, GrantHandler> handlers;
    private final ClientFrontDoor door;
    private final AuditLog audit;
    private final TokenMetrics metrics;
    private final Traces traces;

    public TokenEndpoint(List<GrantHandler> handlers, ClientFrontDoor door, AuditLog audit, TokenMetrics metrics,
                         Traces traces) {
        Map<String, GrantHandler> byType = new TreeMap<>();
        for (GrantHandler h : handlers) {
            if (byType.put(h.grantType(), h) != null) {
                throw new IllegalStateException("two grant handlers for " + h.grantType());
            }
        }
        this.handlers = Collections.unmodifiableMap(byType);
        this.door = door;
        this.audit = audit;
        this.metrics = metrics;
        this.traces = traces;
    }

    private ClientUsage usage = ClientUsage.NONE;

    /** Set once at start-up (setter injection keeps the constructor as it is). */
    @jakarta.inject.Inject
    void usage(ClientUsage usage) {
        this.usage = usage;
    }

    /** The grant types with a handler: {@code grant_types_supported} is computed from this. */
    public Set<String> grantTypes() {
        return handlers.keySet();
    }

    public EndpointResponse handle(Tenant tenant, HTTPRequest request, RequestMeta meta) {
        return door.serve(ClientFrontDoor.Endpoint.TOKEN, tenant, request, meta, new ClientFrontDoor.Handler() {
            @Override
            public void precheck(HTTPRequest r) {
                handler(r);
            }

            @Override
            public EndpointResponse handle(ClientFrontDoor.Call call) {
                GrantHandler handler = handler(call.request());
                TokenResult result;
                try (Traces.Step grant = traces.step("deputy.grant")) {
                    grant.attr("oauth.grant_type", handler.grantType());
                    try {
                        TokenRequest tokenRequest = TokenRequests.parse(call.request(), call.authentication());
                        result = handler.handle(new TokenContext(call.tenant(), call.issuer(), tokenRequest,
                                call.request(), call.client(), call.meta()));
                    } catch (OAuthException e) {
                        grant.refused(e.error().getCode());
                        throw e;
                    }
                }
                if (result.audit() != null) {
                    audit.append(result.audit());
                }
                // DCR registrations expire by last use (issue 14 finding 4)
                usage.tokenIssued(call.tenant().id(), call.client());
                // counted once the token's audit entry is durable, as the response it goes with
                metrics.issued(call.tenant().id(), handler.grantType(), call.client().method());
                return EndpointResponse.ok(result.body());
            }
        });
    }

    /** RFC 6749 §5.2: a missing grant type is invalid_request, an unknown one unsupported_grant_type. */
    private GrantHandler handler(HTTPRequest request) {
        String grantType = ClientAuthPipeline.param(request, "grant_type");
        if (grantType == null) {
            throw new OAuthException(OAuth2Error.INVALID_REQUEST, "missing grant_type");
        }
        GrantHandler handler = handlers.get(grantType);
        if (handler == null) {
            throw new OAuthException(OAuth2Error.UNSUPPORTED_GRANT_TYPE, "grant_type not supported here");
        }
        return handler;
    }
}
