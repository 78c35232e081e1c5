package dev.deputy.broker.http;

import dev.deputy.broker.registration.ClientRegistrations;
import dev.deputy.broker.registration.RegistrationException;
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
import io.micronaut.http.annotation.Delete;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.PathVariable;
import io.micronaut.http.annotation.Post;
import io.micronaut.http.annotation.Put;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import io.micronaut.security.annotation.Secured;
import io.micronaut.security.rules.SecurityRule;

import java.util.function.Supplier;

/**
 * RFC 7591 client registration endpoint ({@code POST /t/<t>/register}) and RFC 7592 client configuration endpoint
 * ({@code GET|PUT|DELETE /t/<t>/register/<client_id>}, Bearer = the registration access token).
 */
@Controller
@Secured(SecurityRule.IS_ANONYMOUS)
@ExecuteOn(TaskExecutors.BLOCKING)
public class RegistrationController {
    private final Tenants tenants;
    private final ClientRegistrations registrations;

    public RegistrationController(Tenants tenants, ClientRegistrations registrations) {
        this.tenants = tenants;
        this.registrations = registrations;
    }

    @Post(uri = "/t/{tenant}/register", consumes = {MediaType.APPLICATION_JSON, MediaType.ALL},
            produces = MediaType.APPLICATION_JSON)
    public HttpResponse<?> register(@PathVariable String tenant, @Nullable @Body String body, HttpRequest<?> request) {
        Tenant t = tenant(tenant);
        return answer(() -> registrations.register(t, body, RequestMetaFilter.of(request)));
    }

    @Get(uri = "/t/{tenant}/register/{clientId}", produces = MediaType.APPLICATION_JSON)
    public HttpResponse<?> read(@PathVariable String tenant, @PathVariable String clientId, HttpRequest<?> request) {
        Tenant t = tenant(tenant);
        return answer(() -> registrations.read(t, clientId, bearer(request), RequestMetaFilter.of(request)));
    }

    @Put(uri = "/t/{tenant}/register/{clientId}", consumes = {MediaType.APPLICATION_JSON, MediaType.ALL},
            produces = MediaType.APPLICATION_JSON)
    public HttpResponse<?> update(@PathVariable String tenant, @PathVariable String clientId, @Nullable @Body String body,
                                  HttpRequest<?> request) {
        Tenant t = tenant(tenant);
        return answer(() -> registrations.update(t, clientId, bearer(request), body, RequestMetaFilter.of(request)));
    }

    @Delete(uri = "/t/{tenant}/register/{clientId}")
    public HttpResponse<?> delete(@PathVariable String tenant, @PathVariable String clientId, HttpRequest<?> request) {
        Tenant t = tenant(tenant);
        try {
            registrations.delete(t, clientId, bearer(request), RequestMetaFilter.of(request));
            return HttpResponse.noContent().header("Cache-Control", "no-store");
        } catch (RegistrationException e) {
            return error(e);
        }
    }

    private static HttpResponse<?> answer(Supplier<ClientRegistrations.Response> work) {
        try {
            ClientRegistrations.Response r = work.get();
            // RFC 7591 §3.2.1: the response is JSON and not cached
            return HttpResponse.status(HttpStatus.valueOf(r.status())).body(r.body().toJSONString())
                    .contentType(MediaType.APPLICATION_JSON_TYPE)
                    .header("Cache-Control", "no-store").header("Pragma", "no-cache");
        } catch (RegistrationException e) {
            return error(e);
        }
    }

    private static MutableHttpResponse<?> error(RegistrationException e) {
        MutableHttpResponse<?> r = OAuthErrors.render(e.error());
        if ("invalid_token".equals(e.error().getCode())) {
            // RFC 6750 §3
            r.header("WWW-Authenticate", "Bearer error=\"invalid_token\"");
        }
        return r;
    }

    private static String bearer(HttpRequest<?> request) {
        String h = request.getHeaders().get("Authorization");
        if (h == null || h.length() < 8 || !h.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return null;
        }
        String v = h.substring(7).trim();
        return v.isEmpty() || v.length() > 200 ? null : v;
    }

    private Tenant tenant(String id) {
        return tenants.find(id).orElseThrow(() -> new UnknownTenantException(id));
    }
}
