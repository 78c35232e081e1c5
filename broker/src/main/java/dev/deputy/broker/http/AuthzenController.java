package dev.deputy.broker.http;

import com.nimbusds.oauth2.sdk.http.HTTPRequest;
import dev.deputy.broker.governance.ToolDecisions;
import dev.deputy.broker.oauth.Endpoints;
import dev.deputy.broker.oauth.EndpointResponse;
import dev.deputy.broker.tenant.Tenant;
import dev.deputy.broker.tenant.Tenants;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.MediaType;
import io.micronaut.http.MutableHttpResponse;
import io.micronaut.http.annotation.Body;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.PathVariable;
import io.micronaut.http.annotation.Post;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import io.micronaut.security.annotation.Secured;
import io.micronaut.http.server.netty.NettyHttpRequest;
import io.micronaut.security.rules.SecurityRule;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/**
 * OpenID AuthZEN Authorization API 1.0, per tenant under its issuer (the PDP identifier is the tenant issuer
 * {@code <public url>/t/<tenant>}):
 * <ul>
 *   <li>{@code POST /t/{tenant}/access/v1/evaluation} and {@code …/evaluations}: JSON bodies as the spec defines them;
 *       the caller proves who it is with mTLS (its certificate; its client id in the {@code Deputy-Client-Id} header
 *       or from the certificate's SPIFFE id) or with {@code Authorization: Bearer} and an access token of its own
 *       (scope {@code authzen:evaluate}); never in the URL: client credentials in the query string are refused
 *       ({@link ToolDecisions});</li>
 *   <li>the PDP metadata at {@code /.well-known/authzen-configuration/t/{tenant}} (well-known inserted before the
 *       path, AuthZEN §"Policy Decision Point Metadata") and at {@code /t/{tenant}/.well-known/authzen-configuration}.</li>
 * </ul>
 * Errors are the spec's: the status code (400, 401, 403) with an error message string as the body.
 */
@Controller
@Secured(SecurityRule.IS_ANONYMOUS)
class AuthzenController {
    static final String EVALUATION = "/access/v1/evaluation";
    static final String EVALUATIONS = "/access/v1/evaluations";
    /** The headers the decision client's authentication reads (the rest stay out of the Nimbus request). */
    private static final List<String> AUTH_HEADERS = List.of("Authorization");

    private final ToolDecisions decisions;
    private final Tenants tenants;
    private final NimbusRequests adapter;
    private final Endpoints endpoints;

    AuthzenController(ToolDecisions decisions, Tenants tenants, NimbusRequests adapter, Endpoints endpoints) {
        this.decisions = decisions;
        this.tenants = tenants;
        this.adapter = adapter;
        this.endpoints = endpoints;
    }

    @Post(uri = "/t/{tenant}" + EVALUATION, consumes = {MediaType.APPLICATION_JSON, MediaType.ALL},
            produces = MediaType.APPLICATION_JSON)
    @ExecuteOn(TaskExecutors.BLOCKING)
    CompletableFuture<HttpResponse<?>> evaluation(HttpRequest<?> request, @PathVariable String tenant,
                                                  @Nullable @Body byte[] body) {
        return serve(request, tenant, body, false, EVALUATION);
    }

    @Post(uri = "/t/{tenant}" + EVALUATIONS, consumes = {MediaType.APPLICATION_JSON, MediaType.ALL},
            produces = MediaType.APPLICATION_JSON)
    @ExecuteOn(TaskExecutors.BLOCKING)
    CompletableFuture<HttpResponse<?>> evaluations(HttpRequest<?> request, @PathVariable String tenant,
                                                   @Nullable @Body byte[] body) {
        return serve(request, tenant, body, true, EVALUATIONS);
    }

    /**
     * The decision is made on this (virtual) thread, which then ends: the answer waits for its audit entries to be
     * durable without a thread parked on them, and is written by the connection's event loop once they are.
     */
    private CompletableFuture<HttpResponse<?>> serve(HttpRequest<?> request, String tenant, byte[] body, boolean batch,
                                                     String path) {
        Tenant t = tenants.find(tenant).orElse(null);
        if (t == null) {
            return CompletableFuture.completedFuture(error(404, "unknown tenant"));
        }
        // what proves the client, as the front door reads it: an mTLS client's id as a form (from the header or its
        // certificate), the Authorization header and the certificate come along; the query is never read for it
        HTTPRequest auth = adapter.adapt(request, t.id(), path, "", AUTH_HEADERS);
        auth.setBody(ToolDecisions.authenticationForm(t.id(), request.getHeaders().get(ToolDecisions.CLIENT_ID_HEADER),
                auth.getClientX509Certificate()));
        auth.setHeader("Content-Type", MediaType.APPLICATION_FORM_URLENCODED);
        EndpointResponse out = decisions.handle(t, auth, body, batch, RequestMetaFilter.of(request),
                request.getParameters().names());
        if (out.later() == null) {
            return CompletableFuture.completedFuture(render(out));
        }
        return out.later().thenApplyAsync(AuthzenController::render, eventLoop(request));
    }

    /** The connection's event loop (the response is written there), or the completing thread outside Netty. */
    private static Executor eventLoop(HttpRequest<?> request) {
        if (request instanceof NettyHttpRequest<?> netty) {
            return netty.getChannelHandlerContext().channel().eventLoop();
        }
        return Runnable::run;
    }

    private static HttpResponse<?> render(EndpointResponse out) {
        if (out.isError()) {
            int status = out.error().getHTTPStatusCode() <= 0 ? 400 : out.error().getHTTPStatusCode();
            String message = out.error().getDescription() != null ? out.error().getDescription() : out.error().getCode();
            MutableHttpResponse<?> res = error(status, message);
            String code = out.error().getCode();
            if ("invalid_token".equals(code) || "insufficient_scope".equals(code)) {
                // RFC 6750 §3: the bearer token's error in the challenge
                res.header("WWW-Authenticate", "Bearer error=\"" + code + "\""
                        + ("insufficient_scope".equals(code) ? ", scope=\"" + ToolDecisions.SCOPE + "\"" : ""));
            }
            return res;
        }
        return HttpResponse.ok(out.json()).contentType(MediaType.APPLICATION_JSON_TYPE).header("Cache-Control", "no-store");
    }

    /** AuthZEN §"Error Responses": the status code, and an error message string as the body. */
    private static MutableHttpResponse<?> error(int status, String message) {
        return HttpResponse.status(HttpStatus.valueOf(status)).body(message)
                .contentType(MediaType.TEXT_PLAIN_TYPE).header("Cache-Control", "no-store");
    }

    @Get(uri = "/.well-known/authzen-configuration/t/{tenant}", produces = MediaType.APPLICATION_JSON)
    HttpResponse<?> metadata(@PathVariable String tenant) {
        if (tenants.find(tenant).isEmpty()) {
            return error(404, "unknown tenant");
        }
        String pdp = endpoints.issuer(tenant);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("policy_decision_point", pdp);
        m.put("access_evaluation_endpoint", pdp + EVALUATION);
        m.put("access_evaluations_endpoint", pdp + EVALUATIONS);
        // how a PEP proves itself, in RFC 9728's protected-resource terms: a token from this issuer for the PDP
        // (resource = the PDP identifier) with the scope, in the Authorization header, certificate-bound tokens
        // honoured; or mTLS (docs/governance.md)
        m.put("resource", pdp);
        m.put("authorization_servers", List.of(pdp));
        m.put("scopes_supported", List.of(ToolDecisions.SCOPE));
        m.put("bearer_methods_supported", List.of("header"));
        m.put("tls_client_certificate_bound_access_tokens", true);
        return HttpResponse.ok(m).header("Cache-Control", "public, max-age=300");
    }

    // the issuer-appended location too, as for the OAuth metadata
    @Get(uri = "/t/{tenant}/.well-known/authzen-configuration", produces = MediaType.APPLICATION_JSON)
    HttpResponse<?> metadataAppended(@PathVariable String tenant) {
        return metadata(tenant);
    }
}
