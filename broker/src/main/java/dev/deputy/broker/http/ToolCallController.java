package dev.deputy.broker.http;

import com.nimbusds.oauth2.sdk.http.HTTPRequest;
import dev.deputy.broker.oauth.EndpointResponse;
import dev.deputy.broker.oauth.ToolCallEndpoint;
import dev.deputy.broker.tenant.Tenant;
import dev.deputy.broker.tenant.Tenants;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.MediaType;
import io.micronaut.http.annotation.Body;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.PathVariable;
import io.micronaut.http.annotation.Post;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import io.micronaut.security.annotation.Secured;
import io.micronaut.security.rules.SecurityRule;

/**
 * {@code POST /t/{tenant}/audit/tool-calls}: a resource server reports a tool call. The reporter authenticates as
 * a client (as at {@code /introspect}); the form names the caller's token and the call. Adapt, delegate, render:
 * 201 with the entry's sequence number and correlation id.
 */
@Controller("/t/{tenant}/audit/tool-calls")
@Secured(SecurityRule.IS_ANONYMOUS)
class ToolCallController {
    private final ToolCallEndpoint endpoint;
    private final Tenants tenants;
    private final NimbusRequests adapter;

    ToolCallController(ToolCallEndpoint endpoint, Tenants tenants, NimbusRequests adapter) {
        this.endpoint = endpoint;
        this.tenants = tenants;
        this.adapter = adapter;
    }

    @Post(consumes = MediaType.APPLICATION_FORM_URLENCODED, produces = MediaType.APPLICATION_JSON)
    @ExecuteOn(TaskExecutors.BLOCKING)
    HttpResponse<?> report(HttpRequest<?> request, @PathVariable String tenant, @Nullable @Body String body) {
        Tenant t = tenants.find(tenant).orElseThrow(() -> new UnknownTenantException(tenant));
        HTTPRequest r = adapter.adapt(request, t.id(), "/audit/tool-calls", body);
        EndpointResponse out = endpoint.handle(t, r, RequestMetaFilter.of(request));
        if (out.isError()) {
            return OAuthErrors.render(out.error());
        }
        return HttpResponse.created(out.body()).contentType(MediaType.APPLICATION_JSON_TYPE)
                .header("Cache-Control", "no-store");
    }
}
