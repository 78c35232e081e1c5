package dev.deputy.broker.http;

import dev.deputy.broker.audit.EventTypes;
import dev.deputy.broker.audit.RequestMeta;
import dev.deputy.broker.authorize.AuthorizeOutcome;
import dev.deputy.broker.authorize.ConsentFlow;
import dev.deputy.broker.authorize.LoginFlow;
import dev.deputy.broker.console.PageSupport;
import dev.deputy.broker.federation.Sessions;
import dev.deputy.broker.ratelimit.RateLimiter;
import dev.deputy.broker.tenant.Tenant;
import dev.deputy.broker.tenant.Tenants;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
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
 * form, logout and the tenant's branding style sheet. Adapts the request, delegates to {@link LoginFlow} /
 * {@link ConsentFlow}, renders their outcome ({@link PageSupport}: templates, cookies, security headers).
 */
@Controller
@Secured(SecurityRule.IS_ANONYMOUS)
@ExecuteOn(TaskExecutors.BLOCKING)
public class AuthorizeController {
    private final Tenants tenants;
    private final LoginFlow login;
    private final ConsentFlow consent;
    private final Sessions sessions;
    private final RateLimiter limiter;
    private final PageSupport pages;

    public AuthorizeController(Tenants tenants, LoginFlow login, ConsentFlow consent, Sessions sessions,
                               RateLimiter limiter, PageSupport pages) {
        this.tenants = tenants;
        this.login = login;
        this.consent = consent;
        this.sessions = sessions;
        this.limiter = limiter;
        this.pages = pages;
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
        return render(request, t, login.authorize(t, params(request), cookie(request, sessions.cookieName()), meta));
    }

    @Get("/t/{tenant}/callback")
    public HttpResponse<?> callback(@PathVariable String tenant, HttpRequest<?> request) {
        Tenant t = tenant(tenant);
        return render(request, t, login.callback(t, params(request), cookie(request, sessions.loginCookieName()),
                cookie(request, sessions.cookieName()), RequestMetaFilter.of(request)));
    }

    @Post(value = "/t/{tenant}/consent", consumes = MediaType.APPLICATION_FORM_URLENCODED)
    public HttpResponse<?> consent(@PathVariable String tenant, HttpRequest<?> request, @Nullable @Body Map<String, String> form) {
        Tenant t = tenant(tenant);
        return render(request, t, consent.consent(t, form == null ? Map.of() : form, cookie(request, sessions.cookieName()),
                RequestMetaFilter.of(request)));
    }

    @Get("/t/{tenant}/logout")
    public HttpResponse<?> logout(@PathVariable String tenant, HttpRequest<?> request) {
        Tenant t = tenant(tenant);
        return render(request, t, login.logout(t, cookie(request, sessions.cookieName()), RequestMetaFilter.of(request)));
    }

    @Post(value = "/t/{tenant}/logout", consumes = {MediaType.APPLICATION_FORM_URLENCODED, MediaType.ALL})
    public HttpResponse<?> logoutPost(@PathVariable String tenant, HttpRequest<?> request) {
        return logout(tenant, request);
    }

    /** The tenant's colours (tenant.yml {@code branding:}) for the pages' layout. */
    @Get(value = "/t/{tenant}/branding.css", produces = "text/css")
    public HttpResponse<String> brandingCss(@PathVariable String tenant) {
        return HttpResponse.ok(pages.brandingCss(tenant(tenant))).contentType("text/css;charset=utf-8")
                .header("X-Content-Type-Options", "nosniff").header("Cache-Control", "public, max-age=300");
    }

    private Tenant tenant(String id) {
        return tenants.find(id).orElseThrow(() -> new UnknownTenantException(id));
    }

    static Map<String, List<String>> params(HttpRequest<?> request) {
        Map<String, List<String>> out = new LinkedHashMap<>();
        request.getParameters().forEach((k, v) -> out.put(k, List.copyOf(v)));
        return out;
    }

    static String cookie(HttpRequest<?> request, String name) {
        return request.getCookies().findCookie(name).map(Cookie::getValue).orElse(null);
    }

    /** A redirect or a page, with its cookies; every answer of the login endpoints is no-store. */
    MutableHttpResponse<?> render(HttpRequest<?> request, Tenant tenant, AuthorizeOutcome outcome) {
        MutableHttpResponse<?> r;
        if (outcome instanceof AuthorizeOutcome.Redirect redirect) {
            r = PageSupport.redirect(redirect.location());
        } else {
            AuthorizeOutcome.Page page = (AuthorizeOutcome.Page) outcome;
            Object ui = page.model().get("uiLocales");
            r = pages.page(request, tenant, page.status(), page.view(), page.model(),
                    ui != null ? (String) ui : request.getParameters().get("ui_locales"));
        }
        return PageSupport.cookies(r, outcome.cookies());
    }
}
