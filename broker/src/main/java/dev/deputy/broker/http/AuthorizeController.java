package dev.deputy.broker.http;

import dev.deputy.broker.audit.EventTypes;
import dev.deputy.broker.audit.RequestMeta;
import dev.deputy.broker.authorize.AuthorizationService;
import dev.deputy.broker.authorize.AuthorizeOutcome;
import dev.deputy.broker.federation.Sessions;
import dev.deputy.broker.ratelimit.RateLimiter;
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
import io.micronaut.http.cookie.Cookie;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import io.micronaut.security.annotation.Secured;
import io.micronaut.security.rules.SecurityRule;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Browser-facing endpoints of human login: {@code /authorize}, the upstream {@code /callback}, the consent
 * form and logout. Adapts the request, delegates to {@link AuthorizationService}, renders its outcome.
 */
@Controller
@Secured(SecurityRule.IS_ANONYMOUS)
@ExecuteOn(TaskExecutors.BLOCKING)
public class AuthorizeController {
    private final Tenants tenants;
    private final AuthorizationService service;
    private final Sessions sessions;
    private final RateLimiter limiter;

    public AuthorizeController(Tenants tenants, AuthorizationService service, Sessions sessions, RateLimiter limiter) {
        this.tenants = tenants;
        this.service = service;
        this.sessions = sessions;
        this.limiter = limiter;
    }

    @Get("/t/{tenant}/authorize")
    public HttpResponse<?> authorize(@PathVariable String tenant, HttpRequest<?> request) {
        Tenant t = tenant(tenant);
        RequestMeta meta = RequestMetaFilter.of(request);
        // rate limits before any work (docs/security.md): a refusal is a direct 429, not a redirect to an unchecked
        // redirect_uri
        limiter.checkTenant(t, EventTypes.AUTHORIZE_REJECTED, meta);
        limiter.check(t.id(), RateLimiter.Kind.AUTHORIZE_PER_SOURCE, RateLimiter.source(meta),
                limiter.limits(t).authorizePerSource(), EventTypes.AUTHORIZE_REJECTED, meta);
        return render(service.authorize(t, params(request), cookie(request, sessions.cookieName()), meta));
    }

    @Get("/t/{tenant}/callback")
    public HttpResponse<?> callback(@PathVariable String tenant, HttpRequest<?> request) {
        return render(service.callback(tenant(tenant), params(request), cookie(request, sessions.loginCookieName()),
                cookie(request, sessions.cookieName()), RequestMetaFilter.of(request)));
    }

    @Post(value = "/t/{tenant}/consent", consumes = MediaType.APPLICATION_FORM_URLENCODED)
    public HttpResponse<?> consent(@PathVariable String tenant, HttpRequest<?> request, @Nullable @Body Map<String, String> form) {
        return render(service.consent(tenant(tenant), form == null ? Map.of() : form, cookie(request, sessions.cookieName()),
                RequestMetaFilter.of(request)));
    }

    @Get("/t/{tenant}/logout")
    public HttpResponse<?> logout(@PathVariable String tenant, HttpRequest<?> request) {
        return render(service.logout(tenant(tenant), cookie(request, sessions.cookieName()), RequestMetaFilter.of(request)));
    }

    @Post(value = "/t/{tenant}/logout", consumes = {MediaType.APPLICATION_FORM_URLENCODED, MediaType.ALL})
    public HttpResponse<?> logoutPost(@PathVariable String tenant, HttpRequest<?> request) {
        return logout(tenant, request);
    }

    private Tenant tenant(String id) {
        return tenants.find(id).orElseThrow(() -> new UnknownTenantException(id));
    }

    private static Map<String, List<String>> params(HttpRequest<?> request) {
        Map<String, List<String>> out = new LinkedHashMap<>();
        request.getParameters().forEach((k, v) -> out.put(k, List.copyOf(v)));
        return out;
    }

    private static String cookie(HttpRequest<?> request, String name) {
        return request.getCookies().findCookie(name).map(Cookie::getValue).orElse(null);
    }

    private static MutableHttpResponse<?> render(AuthorizeOutcome outcome) {
        MutableHttpResponse<?> r;
        if (outcome instanceof AuthorizeOutcome.Redirect redirect) {
            r = HttpResponse.status(HttpStatus.FOUND).header("Location", redirect.location());
        } else {
            AuthorizeOutcome.Page page = (AuthorizeOutcome.Page) outcome;
            r = HttpResponse.status(HttpStatus.valueOf(page.status())).body(page.html())
                    .contentType(MediaType.TEXT_HTML_TYPE.getName() + ";charset=utf-8")
                    .header("X-Frame-Options", "DENY")
                    .header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
                    .header("X-Content-Type-Options", "nosniff");
        }
        r.header("Cache-Control", "no-store").header("Referrer-Policy", "no-referrer");
        outcome.cookies().forEach(c -> r.getHeaders().add("Set-Cookie", c));
        return r;
    }
}
