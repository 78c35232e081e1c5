package dev.deputy.broker.http;

import com.nimbusds.oauth2.sdk.http.HTTPRequest;
import dev.deputy.broker.oauth.EndpointResponse;
import dev.deputy.broker.oauth.IntrospectionEndpoint;
import dev.deputy.broker.oauth.RevocationEndpoint;
import dev.deputy.broker.oauth.TokenEndpoint;
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

/**
 * The token (RFC 6749 §3.2), introspection (RFC 7662) and revocation (RFC 7009) endpoints of a tenant, on the
 * HTTP listener and on the mTLS listener (RFC 8705 §5 aliases). Adapt, delegate, render.
 */
@Controller("/t/{tenant}")
@ExecuteOn(TaskExecutors.BLOCKING)
class TokenController {
    private final Tenants tenants;
    private final NimbusRequests adapter;
    private final TokenEndpoint token;
    private final IntrospectionEndpoint introspection;
    private final RevocationEndpoint revocation;

    TokenController(Tenants tenants, NimbusRequests adapter, TokenEndpoint token, IntrospectionEndpoint introspection,
                    RevocationEndpoint revocation) {
        this.tenants = tenants;
        this.adapter = adapter;
        this.token = token;
        this.introspection = introspection;
        this.revocation = revocation;
    }

    @Post(uri = "/token", consumes = MediaType.APPLICATION_FORM_URLENCODED, produces = MediaType.APPLICATION_JSON)
    HttpResponse<?> token(HttpRequest<?> request, @PathVariable String tenant, @Nullable @Body String body) {
        Tenant t = tenant(tenant);
        HTTPRequest r = adapter.adapt(request, t.id(), "/token", body);
        return render(token.handle(t, r, RequestMetaFilter.of(request)));
    }

    @Post(uri = "/introspect", consumes = MediaType.APPLICATION_FORM_URLENCODED, produces = MediaType.APPLICATION_JSON)
    HttpResponse<?> introspect(HttpRequest<?> request, @PathVariable String tenant, @Nullable @Body String body) {
        Tenant t = tenant(tenant);
        HTTPRequest r = adapter.adapt(request, t.id(), "/introspect", body);
        return render(introspection.handle(t, r, RequestMetaFilter.of(request)));
    }

    @Post(uri = "/revoke", consumes = MediaType.APPLICATION_FORM_URLENCODED, produces = MediaType.APPLICATION_JSON)
    HttpResponse<?> revoke(HttpRequest<?> request, @PathVariable String tenant, @Nullable @Body String body) {
        Tenant t = tenant(tenant);
        HTTPRequest r = adapter.adapt(request, t.id(), "/revoke", body);
        return render(revocation.handle(t, r, RequestMetaFilter.of(request)));
    }

    private Tenant tenant(String id) {
        return tenants.find(id).orElseThrow(() -> new UnknownTenantException(id));
    }

    /** RFC 6749 §5.1: no-store on token responses (and RFC 7662 / 7009 answers alike). */
    private static HttpResponse<?> render(EndpointResponse r) {
        if (r.isError()) {
            return OAuthErrors.render(r.error());
        }
        return HttpResponse.ok(r.body()).contentType(MediaType.APPLICATION_JSON_TYPE)
                .header("Cache-Control", "no-store").header("Pragma", "no-cache");
    }
}
