package dev.deputy.broker.console;

import dev.deputy.broker.admin.AdminPrincipal;
import dev.deputy.broker.admin.AdminRefusal;
import dev.deputy.broker.admin.signin.ConsoleSettings;
import dev.deputy.broker.tenant.Tenant;
import dev.deputy.broker.tenant.Tenants;
import io.micronaut.context.annotation.Value;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.MediaType;
import io.micronaut.http.MutableHttpResponse;
import io.micronaut.security.authentication.Authentication;
import jakarta.inject.Singleton;

import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * What every per-tenant console page does before and around its work: who is signed in (a console session, else
 * the sign-in), which tenant (unknown, or the console off: 404), the refusal page (403, or 401 with the step-up
 * link), the model every page shares (admin, CSRF token, the navigation's tenant, read-only) and the rendering.
 */
@Singleton
class ConsoleTenantPages {
    private final boolean enabled;
    private final Tenants tenants;
    private final PageSupport pages;

    ConsoleTenantPages(@Value("${deputy.console.enabled:false}") boolean enabled, Tenants tenants, PageSupport pages) {
        this.enabled = enabled;
        this.tenants = tenants;
        this.pages = pages;
    }

    static Optional<AdminPrincipal> signedIn(@Nullable Authentication auth) {
        return AdminPrincipal.of(auth).filter(p -> p.kind() == AdminPrincipal.Kind.CONSOLE && p.session() != null);
    }

    Optional<Tenant> find(String tenant) {
        return enabled ? tenants.find(tenant) : Optional.empty();
    }

    /** {@code /console/t/<tenant>[/<section>]}, the tenant encoded. */
    static String base(String tenant, String section) {
        String t = "/console/t/" + URLEncoder.encode(tenant, StandardCharsets.UTF_8);
        return section == null ? t : t + "/" + section;
    }

    static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    MutableHttpResponse<?> signIn() {
        if (!enabled) {
            return HttpResponse.notFound();
        }
        return PageSupport.secure(HttpResponse.seeOther(URI.create("/console/oauth/login/" + ConsoleSettings.CLIENT)));
    }

    /** The model every tenant page starts from. */
    Map<String, Object> common(AdminPrincipal p, String tenant, String base) {
        Map<String, Object> model = new LinkedHashMap<>();
        model.put("admin", p.name());
        model.put("csrf", p.session().csrf());
        model.put("base", base);
        model.put("navTenant", tenant);
        model.put("readOnly", !p.manages(tenant) && !p.ownerOnly(tenant));
        return model;
    }

    MutableHttpResponse<String> page(HttpRequest<?> request, Tenant t, int status, String view, Map<String, Object> model) {
        return pages.page(request, t, status, view, model, null);
    }

    /** The refusal of the admin API's access check as a page (with the step-up challenge when it is one). */
    MutableHttpResponse<?> refused(HttpRequest<?> request, Tenant t, AdminRefusal e, String back, String backText) {
        Map<String, Object> model = new LinkedHashMap<>();
        model.put("status", e.status());
        model.put("message", e.getMessage());
        model.put("stepUp", e.challenge() != null);
        model.put("base", back);
        model.put("backText", backText);
        MutableHttpResponse<?> r = pages.page(request, t, e.status(), "console/refused", model, null);
        return e.challenge() == null ? r : r.header("WWW-Authenticate", e.challenge());
    }

    /** A change the service refused (bad input, wrong state): its status and message as a page; nothing changed. */
    MutableHttpResponse<?> failed(HttpRequest<?> request, Tenant t, int status, String message, String back,
                                  String backText) {
        Map<String, Object> model = new LinkedHashMap<>();
        model.put("status", status);
        model.put("message", message);
        model.put("base", back);
        model.put("backText", backText);
        return pages.page(request, t, status, "console/refused", model, null);
    }

    MutableHttpResponse<?> notFoundPage(HttpRequest<?> request, Tenant t) {
        return pages.page(request, t, 404, "error", Map.of("titleKey", "error.cannot_continue",
                "messageKey", "error.not_found"), null);
    }

    static MutableHttpResponse<?> notFound() {
        return PageSupport.secure(HttpResponse.notFound().contentType(MediaType.TEXT_PLAIN_TYPE).body("Not found"));
    }
}
