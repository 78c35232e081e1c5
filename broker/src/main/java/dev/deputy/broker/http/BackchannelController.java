package dev.deputy.broker.http;

import com.nimbusds.oauth2.sdk.http.HTTPRequest;
import dev.deputy.broker.governance.BackchannelAuthentication;
import dev.deputy.broker.oauth.EndpointResponse;
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
 * The OpenID CIBA backchannel authentication endpoint of a tenant, {@code POST /t/{tenant}/bc-authorize} (CIBA Core
 * 1.0 §7), on the HTTP listener and on the mTLS listener. Adapt, delegate, render (RFC 6749 §5.2 errors, no-store).
 */
@Controller("/t/{tenant}")
@Secured(SecurityRule.IS_ANONYMOUS)
@ExecuteOn(TaskExecutors.BLOCKING)
class BackchannelController {
    static final String PATH = "/bc-authorize";

    private final Tenants tenants;
    private final NimbusRequests adapter;
    private final BackchannelAuthentication endpoint;

    BackchannelController(Tenants tenants, NimbusRequests adapter, BackchannelAuthentication endpoint) {
        this.tenants = tenants;
        this.adapter = adapter;
        this.endpoint = endpoint;
    }

    @Post(uri = PATH, consumes = MediaType.APPLICATION_FORM_URLENCODED, produces = MediaType.APPLICATION_JSON)
    HttpResponse<?> authorize(HttpRequest<?> request, @PathVariable String tenant, @Nullable @Body String body) {
        Tenant t = tenants.find(tenant).orElseThrow(() -> new UnknownTenantException(tenant));
        HTTPRequest r = adapter.adapt(request, t.id(), PATH, body);
        EndpointResponse out = endpoint.handle(t, r, RequestMetaFilter.of(request));
        if (out.isError()) {
            return OAuthErrors.render(out.error());
        }
        return HttpResponse.ok(out.body()).contentType(MediaType.APPLICATION_JSON_TYPE)
                .header("Cache-Control", "no-store").header("Pragma", "no-cache");
    }
}
