package dev.deputy.broker.console;

import dev.deputy.broker.admin.AdminPrincipal;
import dev.deputy.broker.admin.AdminRefusal;
import dev.deputy.broker.admin.ConsoleGate;
import dev.deputy.broker.admin.signin.ConsoleSettings;
import dev.deputy.broker.agent.AgentException;
import dev.deputy.broker.tenant.Tenant;
import dev.deputy.broker.tenant.Tenants;
import io.micronaut.context.annotation.Value;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpMethod;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.MediaType;
import io.micronaut.http.MutableHttpResponse;
import io.micronaut.security.authentication.Authentication;
import jakarta.inject.Singleton;

import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * What the console's catalog pages (clients, resources and roles, consents, delegation policy) share: the signed-in
 * console admin, the tenant, the admin API's own decision on the API route that does what the page does
 * ({@link ConsoleGate}: roles per tenant, the form's CSRF token, step-up), and the pages that say no. There is no
 * second authorization model: a page asks the gate before it reads or changes anything.
 */
@Singleton
class ConsoleCatalogPages {
    private final boolean enabled;
    private final Tenants tenants;
    private final ConsoleGate gate;
    private final PageSupport pages;

    ConsoleCatalogPages(@Value("${deputy.console.enabled:false}") boolean enabled, Tenants tenants, ConsoleGate gate,
                       PageSupport pages) {
        this.enabled = enabled;
        this.tenants = tenants;
        this.gate = gate;
        this.pages = pages;
    }

    /**
     * A visit of a tenant page: the admin and the tenant when the gate lets {@code method apiPath} through, else the
     * response that stops it ({@link #stop}): the console's sign-in, 404 for an unknown tenant (or a console that is
     * off), or the refusal page (already audited by the gate, as the API's refusal).
     */
    record Visit(AdminPrincipal admin, Tenant tenant, MutableHttpResponse<?> stop) {
        boolean stopped() {
            return stop != null;
        }

        String id() {
            return tenant.id();
        }
    }

    Visit open(HttpRequest<?> request, @Nullable Authentication auth, String tenant, HttpMethod method, String apiPath,
               @Nullable String csrf, String back) {
        Optional<AdminPrincipal> who = AdminPrincipal.of(auth)
                .filter(p -> p.kind() == AdminPrincipal.Kind.CONSOLE && p.session() != null);
        if (!enabled) {
            return new Visit(null, null, plainNotFound());
        }
        if (who.isEmpty()) {
            return new Visit(null, null, PageSupport.secure(HttpResponse.seeOther(
                    URI.create("/console/oauth/login/" + ConsoleSettings.CLIENT))));
        }
        Optional<Tenant> t = tenants.find(tenant);
        if (t.isEmpty()) {
            return new Visit(null, null, plainNotFound());
        }
        try {
            gate.check(who.get(), request, method, apiPath, csrf);
        } catch (AdminRefusal e) {
            return new Visit(who.get(), t.get(), refused(request, t.get(), e, back));
        }
        return new Visit(who.get(), t.get(), null);
    }

    /** The model every catalog page starts from; {@code readOnly}: the admin may not change this tenant. */
    Map<String, Object> model(Visit v) {
        Map<String, Object> model = new LinkedHashMap<>();
        model.put("admin", v.admin().name());
        model.put("csrf", v.admin().session().csrf());
        model.put("navTenant", v.id());
        boolean manages = v.admin().manages(v.id());
        model.put("mayChange", manages);
        model.put("readOnly", !manages);
        return model;
    }

    MutableHttpResponse<?> render(HttpRequest<?> request, Visit v, int status, String view, Map<String, Object> model) {
        return pages.page(request, v.tenant(), status, view, model, null);
    }

    /** A refusal of the admin API's authorization (403, or 401 with the step-up link and challenge). */
    MutableHttpResponse<?> refused(HttpRequest<?> request, Tenant t, AdminRefusal e, String back) {
        Map<String, Object> model = new LinkedHashMap<>();
        model.put("status", e.status());
        model.put("message", e.getMessage());
        model.put("stepUp", e.challenge() != null);
        model.put("back", back);
        MutableHttpResponse<?> r = pages.page(request, t, e.status(), "console/stop", model, null);
        return e.challenge() == null ? r : r.header("WWW-Authenticate", e.challenge());
    }

    /** A change the domain refused (unknown object, conflict, invalid input): audited as the API's error, shown. */
    MutableHttpResponse<?> failed(HttpRequest<?> request, Visit v, HttpMethod method, String apiPath, AgentException e,
                                  String back) {
        gate.failed(request, method, apiPath, e);
        Map<String, Object> model = new LinkedHashMap<>();
        model.put("status", e.kind().status());
        model.put("message", e.getMessage());
        model.put("stepUp", false);
        model.put("back", back);
        return pages.page(request, v.tenant(), e.kind().status(), "console/stop", model, null);
    }

    /** Audits a change the domain refused, as the API's error handler would (the page then shows its form again). */
    void audit(HttpRequest<?> request, HttpMethod method, String apiPath, AgentException e) {
        gate.failed(request, method, apiPath, e);
    }

    dev.deputy.broker.agent.Dormancy dormancy(String tenant) {
        return gate.dormancy(tenant);
    }

    MutableHttpResponse<?> notFound(HttpRequest<?> request, Visit v) {
        return pages.page(request, v.tenant(), 404, "error", Map.of("titleKey", "error.cannot_continue",
                "messageKey", "error.not_found"), null);
    }

    static MutableHttpResponse<?> plainNotFound() {
        return PageSupport.secure(HttpResponse.notFound().contentType(MediaType.TEXT_PLAIN_TYPE).body("Not found"));
    }

    static MutableHttpResponse<?> seeOther(String location) {
        return PageSupport.secure(HttpResponse.seeOther(URI.create(location)));
    }

    static String base(String tenant, String section) {
        return "/console/t/" + enc(tenant) + "/" + section;
    }

    static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    static String time(Long ms) {
        return ms == null || ms <= 0 ? null : Instant.ofEpochMilli(ms).toString();
    }

    static String trim(String s) {
        return s == null || s.isBlank() ? null : s.strip();
    }
}
