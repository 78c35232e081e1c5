package dev.deputy.broker.oauth;

import com.nimbusds.oauth2.sdk.ErrorObject;
import com.nimbusds.oauth2.sdk.OAuth2Error;
import com.nimbusds.oauth2.sdk.auth.ClientAuthentication;
import com.nimbusds.oauth2.sdk.http.HTTPRequest;
import dev.deputy.broker.audit.AuditEvent;
import dev.deputy.broker.audit.AuditLog;
import dev.deputy.broker.audit.EventTypes;
import dev.deputy.broker.audit.RequestMeta;
import dev.deputy.broker.health.ServiceUnavailableException;
import dev.deputy.broker.ratelimit.RateLimitedException;
import dev.deputy.broker.ratelimit.RateLimiter;
import dev.deputy.broker.tenant.Tenant;
import dev.deputy.broker.tracing.Traces;
import jakarta.inject.Singleton;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Map;

/**
 * The one front door of every client-authenticated endpoint: token (RFC 6749 §3.2), introspection (RFC 7662),
 * revocation (RFC 7009), tool-call reports, the AuthZEN decision endpoints and the CIBA backchannel authentication
 * endpoint. For each request it
 * <ol>
 *   <li>runs the endpoint's cheap checks ({@link Handler#precheck}), then parses and verifies the client
 *       authentication once ({@link ClientAuthPipeline});</li>
 *   <li>decides whether this client may use this endpoint ({@link #admit}): public clients
 *       ({@code token_endpoint_auth_method: none}) only at the token endpoint; introspection only for the tenant's
 *       allow-list when it has one (RFC 7662 §2.1, §4);</li>
 *   <li>hands the request to the endpoint, and answers what it returns — or, for an {@link EndpointResponse#later}
 *       answer, what it completes with, a failure there handled as below;</li>
 *   <li>owns the failure audit: whatever refuses the request (client authentication, the endpoint rule, a grant,
 *       an unexpected failure), exactly one entry is written, from the {@link OAuthException}'s internal reason.
 *       Grants and endpoints never write failure entries themselves.</li>
 * </ol>
 * An {@code invalid_client} answer never says why (RFC 6749 §5.2 allows no more than "client authentication
 * failed"; saying "agent is suspended" or "must use private_key_jwt" tells a prober that the id is an agent and how
 * it authenticates): the reason goes to the audit log only. The 401 and its {@code WWW-Authenticate} are the
 * renderer's ({@code http.OAuthErrors}).
 */
@Singleton
public class ClientFrontDoor {
    private static final Logger LOG = LoggerFactory.getLogger(ClientFrontDoor.class);
    /** The one description an {@code invalid_client} answer carries. */
    public static final String CLIENT_AUTH_FAILED = "client authentication failed";

    /** The client-authenticated endpoints, with the type of their failure entry. */
    public enum Endpoint {
        TOKEN(EventTypes.TOKEN_REJECTED),
        INTROSPECTION(EventTypes.INTROSPECTION_REJECTED),
        REVOCATION(EventTypes.REVOCATION_REJECTED),
        TOOL_CALLS(EventTypes.TOOL_CALL_REJECTED),
        /** The AuthZEN decision endpoints (governance.ToolDecisions). */
        DECISIONS(EventTypes.POLICY_DECISION_REJECTED),
        /** The OpenID CIBA backchannel authentication endpoint (governance.BackchannelAuthentication). */
        BACKCHANNEL(EventTypes.APPROVAL_REJECTED);

        private static final String[] SPAN_NAMES = {"deputy.token", "deputy.introspection", "deputy.revocation",
                "deputy.tool_calls", "deputy.decisions", "deputy.bc_authorize"};

        private final String rejectedType;

        Endpoint(String rejectedType) {
            this.rejectedType = rejectedType;
        }

        public String rejectedType() {
            return rejectedType;
        }

        /** The name of this endpoint's span (docs/observability.md, "Traces"). */
        public String spanName() {
            return SPAN_NAMES[ordinal()];
        }

        /** Whether a public client may call it: only the token endpoint (its code is protected by PKCE). */
        boolean allowsPublicClients() {
            return this == TOKEN;
        }
    }

    /** A request that passed the front door. */
    public record Call(Tenant tenant, String issuer, HTTPRequest request, ClientAuthentication authentication,
                       AuthenticatedClient client, RequestMeta meta) {
    }

    /** What an endpoint does behind the door; it throws {@link OAuthException} to refuse. */
    public interface Handler {
        /** Checks that need no client (RFC 6749 §5.2: an unsupported grant type before anything costly). */
        default void precheck(HTTPRequest request) {
        }

        /**
         * An endpoint that accepts another credential than client authentication (the AuthZEN endpoints: an access
         * token of the client's own, {@code Authorization: Bearer}) returns the client it proves here, or throws
         * {@link OAuthException} to refuse; null (the default) means: client authentication as usual.
         */
        default AuthenticatedClient authenticate(Tenant tenant, HTTPRequest request) {
            return null;
        }

        EndpointResponse handle(Call call);
    }

    private final ClientAuthPipeline pipeline;
    private final Endpoints endpoints;
    private final AuditLog audit;
    private final RateLimiter limiter;
    private final TokenMetrics metrics;
    private final Traces traces;

    public ClientFrontDoor(ClientAuthPipeline pipeline, Endpoints endpoints, AuditLog audit, RateLimiter limiter,
                           TokenMetrics metrics, Traces traces) {
        this.pipeline = pipeline;
        this.endpoints = endpoints;
        this.audit = audit;
        this.limiter = limiter;
        this.metrics = metrics;
        this.traces = traces;
    }

    public EndpointResponse serve(Endpoint endpoint, Tenant tenant, HTTPRequest request, RequestMeta meta,
                                  Handler handler) {
        try {
            return serveWithinLimits(endpoint, tenant, request, meta, handler);
        } catch (RateLimitedException e) {
            // rendered 429 by http.ErrorHandlers, audited (sampled) by the limiter; counted like any refusal
            if (endpoint == Endpoint.TOKEN) {
                metrics.refused(tenant.id(), ClientAuthPipeline.param(request, "grant_type"), TokenMetrics.OTHER,
                        "temporarily_unavailable");
            } else {
                metrics.endpointRefused(tenant.id(), endpoint, TokenMetrics.OTHER, "temporarily_unavailable");
            }
            throw e;
        } catch (ServiceUnavailableException | dev.deputy.broker.audit.AuditStore.SeqConflict
                 | dev.deputy.broker.audit.AuditWitness.ChainRefused e) {
            // rendered 503 temporarily_unavailable by http.ErrorHandlers (which counts it by reason); a refusal too
            if (endpoint == Endpoint.TOKEN) {
                metrics.refused(tenant.id(), ClientAuthPipeline.param(request, "grant_type"), TokenMetrics.OTHER,
                        "temporarily_unavailable");
            } else {
                metrics.endpointRefused(tenant.id(), endpoint, TokenMetrics.OTHER, "temporarily_unavailable");
            }
            throw e;
        }
    }

    private EndpointResponse serveWithinLimits(Endpoint endpoint, Tenant tenant, HTTPRequest request, RequestMeta meta,
                                               Handler handler) {
        AuthenticatedClient client = null;
        // rate limits (docs/security.md): the tenant overall, and a source past its failed client authentications,
        // before any work; a refusal is a RateLimitedException (429), audited by the limiter with sampling
        limiter.checkTenant(tenant, endpoint.rejectedType(), meta);
        limiter.refuseBlockedSource(tenant, endpoint.rejectedType(), meta);
        Traces.Step step = traces.step(endpoint.spanName());
        try {
            step.attr("deputy.tenant", tenant.id()).attr("deputy.request_id", meta.requestId())
                    .attr("deputy.correlation_id", meta.correlationId());
            handler.precheck(request);
            String issuer = endpoints.issuer(tenant.id());
            RateLimiter.ClientMarks marks = endpoint == Endpoint.TOKEN
                    ? limiter.tokenMarks(tenant, endpoint.rejectedType(), meta) : null;
            ClientAuthentication auth;
            try (Traces.Step authStep = traces.step("deputy.client_auth")) {
                try {
                    AuthenticatedClient proven = handler.authenticate(tenant, request);
                    if (proven != null) {
                        auth = null;
                        client = proven;
                        authStep.attr("deputy.client_auth.method", proven.method());
                    } else {
                        // parsed once: a malformed assertion is invalid_client (RFC 7523 §3.2), not invalid_request
                        auth = ClientAuthPipeline.parse(request);
                        authStep.attr("deputy.client_auth.method", auth == null ? "none" : auth.getMethod().getValue());
                        // RFC 6749 §3.2 (and the RFC 7662 / RFC 7009 forms): no parameter twice, identical values
                        // included; resource (RFC 8707) and audience (RFC 8693) may repeat at the token endpoint
                        FormParameters.requireSingle(request, endpoint == Endpoint.TOKEN ? FormParameters.TOKEN_REPEATABLE
                                : java.util.Set.of());
                        // at the token endpoint a private_key_jwt assertion's jti mark also takes the client's
                        // token_per_client request, in the same store round trip (RateLimiter.ClientMarks)
                        client = pipeline.authenticate(tenant, issuer, request, auth, marks);
                    }
                    if (endpoint == Endpoint.TOKEN) {
                        // per client/agent, on the authenticated client only: a forged client_id (or a replayed
                        // assertion) cannot empty a victim's bucket
                        marks.checkUnlessTaken(client.clientId());
                    }
                    admit(endpoint, tenant, client);
                    authStep.attr("deputy.client_id", client.clientId());
                } catch (OAuthException e) {
                    authStep.refused(e.error().getCode());
                    throw e;
                }
            }
            step.attr("deputy.client_id", client.clientId()).attr("deputy.agent_id", client.agentId());
            EndpointResponse out = handler.handle(new Call(tenant, issuer, request, auth, client, meta));
            if (out.later() != null) {
                // what fails after the handler returned (its audit append) is answered as a failure here would have
                // been; off the thread that completed it (the audit writer, which must never append itself)
                AuthenticatedClient who = client;
                return EndpointResponse.later(out.later().exceptionallyComposeAsync(
                        t -> failedLater(endpoint, tenant, request, meta, who, t), LATER));
            }
            return out;
        } catch (OAuthException e) {
            step.refused(e.error().getCode());
            ErrorObject shown = e.error();
            if (OAuth2Error.INVALID_CLIENT.getCode().equals(shown.getCode())) {
                // RFC 6749 §5.2: say that it failed, never why (the audit entry has the reason)
                shown = new ErrorObject(shown.getCode(), CLIENT_AUTH_FAILED, 401);
                // counted per source; past the limit this answer is the 429 instead (and its entry the sampled one)
                limiter.failedClientAuth(tenant, endpoint.rejectedType(), meta);
            }
            rejected(endpoint, tenant, request, meta, client, e, shown);
            return EndpointResponse.error(shown);
        } catch (ServiceUnavailableException | RateLimitedException | dev.deputy.broker.audit.AuditStore.SeqConflict
                 | dev.deputy.broker.audit.AuditWitness.ChainRefused e) {
            // 429 / 503, rendered by http.ErrorHandlers: the store or the audit trail is away, not a bug of ours
            throw e;
        } catch (RuntimeException e) {
            step.failed(e);
            LOG.error("{} failure (tenant {})", endpoint.name().toLowerCase(), tenant.id(), e);
            ErrorObject err = OAuth2Error.SERVER_ERROR.setDescription("unexpected error");
            rejected(endpoint, tenant, request, meta, client,
                    new OAuthException(err).reason("server_error: " + e.getClass().getSimpleName()), err);
            return EndpointResponse.error(err);
        } finally {
            step.close();
        }
    }

    /** Where a {@link EndpointResponse#later} answer's failure is handled: a virtual thread each (rare). */
    private static final java.util.concurrent.Executor LATER =
            java.util.concurrent.Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("deputy-endpoint-later").factory());

    /** The catch clauses of {@link #serveWithinLimits} and {@link #serve}, for a failure after the handler returned. */
    private java.util.concurrent.CompletionStage<EndpointResponse> failedLater(Endpoint endpoint, Tenant tenant,
                                                                             HTTPRequest request, RequestMeta meta,
                                                                             AuthenticatedClient client, Throwable t) {
        Throwable e = t instanceof java.util.concurrent.CompletionException && t.getCause() != null ? t.getCause() : t;
        if (e instanceof OAuthException oe) {
            ErrorObject shown = oe.error();
            rejected(endpoint, tenant, request, meta, client, oe, shown);
            return java.util.concurrent.CompletableFuture.completedFuture(EndpointResponse.error(shown));
        }
        if (e instanceof ServiceUnavailableException || e instanceof RateLimitedException
                || e instanceof dev.deputy.broker.audit.AuditStore.SeqConflict
                || e instanceof dev.deputy.broker.audit.AuditWitness.ChainRefused) {
            // 429 / 503, rendered by http.ErrorHandlers; counted as a refusal
            if (endpoint == Endpoint.TOKEN) {
                metrics.refused(tenant.id(), ClientAuthPipeline.param(request, "grant_type"), TokenMetrics.OTHER,
                        "temporarily_unavailable");
            } else {
                metrics.endpointRefused(tenant.id(), endpoint, TokenMetrics.OTHER, "temporarily_unavailable");
            }
            return java.util.concurrent.CompletableFuture.failedFuture(e);
        }
        if (!(e instanceof RuntimeException)) {
            return java.util.concurrent.CompletableFuture.failedFuture(e);
        }
        LOG.error("{} failure (tenant {})", endpoint.name().toLowerCase(), tenant.id(), e);
        ErrorObject err = OAuth2Error.SERVER_ERROR.setDescription("unexpected error");
        rejected(endpoint, tenant, request, meta, client,
                new OAuthException(err).reason("server_error: " + e.getClass().getSimpleName()), err);
        return java.util.concurrent.CompletableFuture.completedFuture(EndpointResponse.error(err));
    }

    /** Which clients may use which endpoint. */
    static void admit(Endpoint endpoint, Tenant tenant, AuthenticatedClient client) {
        if (client.isPublic() && !endpoint.allowsPublicClients()) {
            // RFC 7662 §2.1 / RFC 7009 §2.1: the caller must authenticate; a public client cannot
            throw OAuthException.of(OAuth2Error.INVALID_CLIENT, CLIENT_AUTH_FAILED,
                    "public client not allowed at " + endpoint.name().toLowerCase());
        }
        if (endpoint == Endpoint.INTROSPECTION && tenant.introspectionClients() != null
                && !tenant.introspectionClients().contains(client.clientId())) {
            // RFC 7662 §4: the tenant restricts introspection to its resource servers
            throw OAuthException.of(OAuth2Error.UNAUTHORIZED_CLIENT.setHTTPStatusCode(403),
                    "this client may not introspect tokens", "not_on_introspection_allow_list");
        }
    }

    private void rejected(Endpoint endpoint, Tenant tenant, HTTPRequest request, RequestMeta meta,
                          AuthenticatedClient client, OAuthException e, ErrorObject shown) {
        try {
            AuditEvent event = e.auditEventOverride();
            if (event == null) {
                String claimed = client != null ? client.clientId() : ClientAuthPipeline.claimedClientId(request);
                String type = e.auditTypeOverride() != null ? e.auditTypeOverride() : endpoint.rejectedType();
                AuditEvent.Builder b = AuditEvent.of(tenant.id(), type, AuditEvent.Outcome.FAILURE)
                        .client(claimed).agent(client != null ? client.agentId() : claimed).request(meta)
                        .detail("error", shown.getCode())
                        .detail("reason", ClientAuthPipeline.safe(e.auditReason()))
                        .detail("authenticated", client != null);
                if (endpoint == Endpoint.TOKEN) {
                    String grantType = ClientAuthPipeline.param(request, "grant_type");
                    b.detail("grant_type", grantType == null || grantType.length() > 100 ? null : grantType);
                }
                for (Map.Entry<String, Object> d : e.details().entrySet()) {
                    b.detail(d.getKey(), d.getValue());
                }
                event = b.build();
            }
            audit.append(event);
        } catch (RuntimeException ex) {
            LOG.warn("could not audit a refused {} request (tenant {}): {}", endpoint.name().toLowerCase(), tenant.id(),
                    ex.toString());
        }
        // after the audit entry: the counter never stands in its way
        String method = client != null ? client.method() : TokenMetrics.UNAUTHENTICATED;
        if (endpoint == Endpoint.TOKEN) {
            metrics.refused(tenant.id(), ClientAuthPipeline.param(request, "grant_type"), method, shown.getCode());
        } else {
            metrics.endpointRefused(tenant.id(), endpoint, method, shown.getCode());
        }
    }
}
