package dev.deputy.broker.console;

import dev.deputy.broker.admin.AdminPrincipal;
import dev.deputy.broker.admin.AdminRefusal;
import dev.deputy.broker.admin.ConsoleGate;
import dev.deputy.broker.admin.signin.ConsoleSettings;
import dev.deputy.broker.agent.AgentException;
import dev.deputy.broker.agent.Dormancy;
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
 * What every per-tenant console page does before and around its work — one prologue for all of them: who is signed
 * in (a console session, else the sign-in), which tenant (unknown, or the console off: 404), the admin API's own
 * decision on the API route that does what the page does ({@link ConsoleGate}: roles per tenant, the form's CSRF
 * token, step-up; there is no second authorization model), the pages that say no (403, or 401 with the step-up link
 * and challenge), the model every page starts from and the rendering.
 */
@Singleton
class ConsoleTenantPages {
    private final boolean enabled;
    private final Tenants tenants;
    private final ConsoleGate gate;
    private final PageSupport pages;

    ConsoleTenantPages(@Value("${deputy.console.enabled:false}") boolean enabled, Tenants tenants, ConsoleGate gate,
                       PageSupport pages) {
        this.enabled = enabled;
        this.tenants = tenants;
        this.gate = gate;
        this.pages = pages;
    }

    /**
     * Where a page that says no links back to. With a {@code label}: the page {@code console/refused} with that link
     * text; without: {@code console/stop} (the catalog pages'), whose link says the localized "Back".
     */
    record Back(String href, @Nullable String label) {
        static Back to(String href) {
            return new Back(href, null);
        }

        static Back to(String href, String label) {
            return new Back(href, label);
        }

        private String view() {
            return label == null ? "console/stop" : "console/refused";
        }

        private void into(Map<String, Object> model) {
            if (label == null) {
                model.put("back", href);
            } else {
                model.put("base", href);
                model.put("backText", label);
            }
        }
    }

    /**
     * A visit of a tenant page: the admin and the tenant, or the response that stops it ({@link #stop}): the console's
     * sign-in, 404 for an unknown tenant (or a console that is off), or the refusal page (already audited by the gate,
     * as the API's refusal).
     */
    record Visit(AdminPrincipal admin, Tenant tenant, MutableHttpResponse<?> stop) {
        boolean stopped() {
            return stop != null;
        }

        String id() {
            return tenant.id();
        }

        private static Visit stoppedBy(MutableHttpResponse<?> r) {
            return new Visit(null, null, r);
        }
    }

    /** The admin API's access decision a page asks for (throws the refusal, audited by the gate). */
    @FunctionalInterface
    interface Check {
        void check(AdminPrincipal p) throws AdminRefusal;
    }

    /** Who and which tenant, without asking the gate yet (for a page with a step of its own before it). */
    Visit enter(@Nullable Authentication auth, String tenant) {
        if (!enabled) {
            return Visit.stoppedBy(plainNotFound());
        }
        Optional<AdminPrincipal> who = AdminPrincipal.of(auth)
                .filter(p -> p.kind() == AdminPrincipal.Kind.CONSOLE && p.session() != null);
        if (who.isEmpty()) {
            return Visit.stoppedBy(seeOther("/console/oauth/login/" + ConsoleSettings.CLIENT));
        }
        Optional<Tenant> t = tenants.find(tenant);
        if (t.isEmpty()) {
            return Visit.stoppedBy(plainNotFound());
        }
        return new Visit(who.get(), t.get(), null);
    }

    /** A visit the gate lets through for {@code method apiPath} ({@code csrf}: the form's token), else its stop. */
    Visit open(HttpRequest<?> request, @Nullable Authentication auth, String tenant, HttpMethod method, String apiPath,
               @Nullable String csrf, Back back) {
        return open(request, auth, tenant, back, p -> gate.check(p, request, method, apiPath, csrf));
    }

    Visit open(HttpRequest<?> request, @Nullable Authentication auth, String tenant, Back back, Check check) {
        Visit v = enter(auth, tenant);
        return v.stopped() ? v : allow(request, v, back, check);
    }

    /** Asks the gate for an entered visit: the visit, or the refusal page as its stop. */
    Visit allow(HttpRequest<?> request, Visit v, Back back, Check check) {
        try {
            check.check(v.admin());
            return v;
        } catch (AdminRefusal e) {
            return new Visit(v.admin(), v.tenant(), refused(request, v.tenant(), e, back));
        }
    }

    Visit allow(HttpRequest<?> request, Visit v, HttpMethod method, String apiPath, @Nullable String csrf, Back back) {
        return allow(request, v, back, p -> gate.check(p, request, method, apiPath, csrf));
    }

    /**
     * The model every tenant page starts from: the admin, the session's CSRF token, the page's {@code base}, the
     * navigation's tenant; {@code mayChange}: the admin manages the tenant; {@code readOnly}: neither that nor an agent
     * owner (who changes their own agents).
     */
    Map<String, Object> model(Visit v, String base) {
        Map<String, Object> model = new LinkedHashMap<>();
        AdminPrincipal p = v.admin();
        model.put("admin", p.name());
        model.put("csrf", p.session().csrf());
        model.put("base", base);
        model.put("navTenant", v.id());
        boolean manages = p.manages(v.id());
        model.put("mayChange", manages);
        model.put("readOnly", !manages && !p.ownerOnly(v.id()));
        return model;
    }

    MutableHttpResponse<?> render(HttpRequest<?> request, Visit v, int status, String view, Map<String, Object> model) {
        return pages.page(request, v.tenant(), status, view, model, null);
    }

    /** A refusal of the admin API's authorization (403, or 401 with the step-up link and challenge). */
    MutableHttpResponse<?> refused(HttpRequest<?> request, Tenant t, AdminRefusal e, Back back) {
        Map<String, Object> model = new LinkedHashMap<>();
        model.put("status", e.status());
        model.put("message", e.getMessage());
        model.put("stepUp", e.challenge() != null);
        back.into(model);
        MutableHttpResponse<?> r = pages.page(request, t, e.status(), back.view(), model, null);
        return e.challenge() == null ? r : r.header("WWW-Authenticate", e.challenge());
    }

    /** A change the service refused (bad input, wrong state), already audited: its status and message as a page. */
    MutableHttpResponse<?> failed(HttpRequest<?> request, Visit v, int status, String message, Back back) {
        Map<String, Object> model = new LinkedHashMap<>();
        model.put("status", status);
        model.put("message", message);
        model.put("stepUp", false);
        back.into(model);
        return pages.page(request, v.tenant(), status, back.view(), model, null);
    }

    /** A change the domain refused (unknown object, conflict, invalid input): audited as the API's error, shown. */
    MutableHttpResponse<?> failed(HttpRequest<?> request, Visit v, HttpMethod method, String apiPath, AgentException e,
                                  Back back) {
        gate.failed(request, method, apiPath, e);
        return failed(request, v, e.kind().status(), e.getMessage(), back);
    }

    /** Audits a change the domain refused, as the API's error handler would (the page then shows its form again). */
    void audit(HttpRequest<?> request, HttpMethod method, String apiPath, AgentException e) {
        gate.failed(request, method, apiPath, e);
    }

    /** Audits malformed input of a page (400 invalid_request), as the API's error handler would. */
    void invalid(HttpRequest<?> request, HttpMethod method, String apiPath, String message) {
        gate.invalid(request, method, apiPath, message);
    }

    Dormancy dormancy(String tenant) {
        return gate.dormancy(tenant);
    }

    ConsoleGate gate() {
        return gate;
    }

    /** The tenant's 404 page (an unknown object of a known tenant). */
    MutableHttpResponse<?> notFound(HttpRequest<?> request, Visit v) {
        return pages.page(request, v.tenant(), 404, "error", Map.of("titleKey", "error.cannot_continue",
                "messageKey", "error.not_found"), null);
    }

    MutableHttpResponse<?> notFound(HttpRequest<?> request, Tenant t) {
        return pages.page(request, t, 404, "error", Map.of("titleKey", "error.cannot_continue",
                "messageKey", "error.not_found"), null);
    }

    Optional<Tenant> find(String tenant) {
        return enabled ? tenants.find(tenant) : Optional.empty();
    }

    static MutableHttpResponse<?> plainNotFound() {
        return PageSupport.secure(HttpResponse.notFound().contentType(MediaType.TEXT_PLAIN_TYPE).body("Not found"));
    }

    static MutableHttpResponse<?> seeOther(String location) {
        return PageSupport.secure(HttpResponse.seeOther(URI.create(location)));
    }

    /** {@code /console/t/<tenant>[/<section>]}, the tenant encoded. */
    static String base(String tenant, @Nullable String section) {
        String t = "/console/t/" + URLEncoder.encode(tenant, StandardCharsets.UTF_8);
        return section == null ? t : t + "/" + section;
    }

    /** A query parameter's value, encoded. */
    static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    /** A path segment, encoded (a space as {@code %20}). */
    static String segment(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    static String time(Long ms) {
        return ms == null || ms <= 0 ? null : Instant.ofEpochMilli(ms).toString();
    }

    @Nullable
    static String trim(@Nullable String s) {
        return s == null || s.isBlank() ? null : s.strip();
    }
}
