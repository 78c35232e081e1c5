package dev.deputy.broker.console;

import dev.deputy.broker.admin.AdminPrincipal;
import dev.deputy.broker.admin.StepUp;
import dev.deputy.broker.admin.AdminAuth;
import dev.deputy.broker.admin.signin.ConsoleSettings;
import dev.deputy.broker.admin.signin.ConsoleSessions;
import dev.deputy.broker.admin.signin.ConsoleSignOut;
import io.micronaut.context.annotation.Value;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.MediaType;
import io.micronaut.http.MutableHttpResponse;
import io.micronaut.http.annotation.Body;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.Post;
import io.micronaut.http.annotation.QueryValue;
import io.micronaut.http.cookie.Cookie;
import io.micronaut.http.cookie.SameSite;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import io.micronaut.security.annotation.Secured;
import io.micronaut.security.authentication.Authentication;
import io.micronaut.security.rules.SecurityRule;
import io.micronaut.views.ModelAndView;

import java.net.URI;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The console's signed-in landing page ({@code GET /console}), step-up ({@code GET /console/step-up}), sign-out
 * ({@code POST /console/logout}, with the session's CSRF token) and the signed-out page. Sign-in itself is
 * micronaut-security-oauth2's ({@code /console/oauth/login/console}). No business logic: the admin pages build on it.
 */
@Controller("/console")
@Secured(SecurityRule.IS_ANONYMOUS)
@ExecuteOn(TaskExecutors.BLOCKING)
class ConsoleController {
    private static final String CSP = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self' %s;"
            + " frame-ancestors 'none'; base-uri 'none'";
    private final boolean enabled;
    private final StepUp stepUp;
    private final AdminAuth adminAuth;
    private final ConsoleSignOut signOut;
    private final String idpOrigin;
    private final dev.deputy.broker.tenant.Tenants tenants;

    ConsoleController(@Value("${deputy.console.enabled:false}") boolean enabled,
                      @Value("${micronaut.security.oauth2.clients.console.openid.issuer:}") String issuer,
                      StepUp stepUp, AdminAuth adminAuth, ConsoleSignOut signOut,
                      dev.deputy.broker.tenant.Tenants tenants) {
        this.tenants = tenants;
        this.enabled = enabled;
        this.stepUp = stepUp;
        this.adminAuth = adminAuth;
        this.signOut = signOut;
        this.idpOrigin = origin(issuer);
    }

    private static String origin(String issuer) {
        try {
            URI u = URI.create(issuer);
            return u.getScheme() == null ? "" : u.getScheme() + "://" + u.getRawAuthority();
        } catch (IllegalArgumentException e) {
            return "";
        }
    }

    @Get(produces = MediaType.TEXT_HTML)
    HttpResponse<?> home(@Nullable Authentication authentication) {
        if (!enabled) {
            return page(HttpResponse.notFound(), "console/off", Map.of());
        }
        Optional<AdminPrincipal> who = AdminPrincipal.of(authentication).filter(p -> p.kind() == AdminPrincipal.Kind.CONSOLE);
        if (who.isEmpty()) {
            return HttpResponse.seeOther(URI.create("/console/oauth/login/" + ConsoleSettings.CLIENT)).header("Cache-Control", "no-store");
        }
        AdminPrincipal p = who.get();
        Map<String, Object> model = new LinkedHashMap<>();
        model.put("admin", p.name());
        List<Map<String, Object>> grants = new ArrayList<>();
        p.grants().forEach(g -> grants.add(Map.of("role", g.role().id(), "tenants", String.join(", ", g.tenants()))));
        model.put("grants", grants);
        model.put("acr", p.mfa().acr() == null ? "-" : p.mfa().acr());
        model.put("amr", p.mfa().amr().isEmpty() ? "-" : String.join(" ", p.mfa().amr()));
        model.put("authTime", p.mfa().authTime() == null ? "-" : Instant.ofEpochSecond(p.mfa().authTime()).toString());
        model.put("privileged", stepUp.satisfied(p, System.currentTimeMillis() / 1000));
        model.put("stepUpMaxAge", stepUp.maxAge().toSeconds());
        model.put("csrf", p.session().csrf());
        model.put("superAdmin", p.superAdmin());
        model.put("tenants", tenants.all().stream().map(dev.deputy.broker.tenant.Tenant::id)
                .filter(t -> !p.rolesIn(t).isEmpty()).sorted().toList());
        model.put("breakGlass", p.superAdmin() ? adminAuth.breakGlassStatus() : Map.of());
        return page(HttpResponse.ok(), "console/home", model);
    }

    /** A fresh multi-factor sign-in at the admin IdP (prompt=login, max_age, acr_values): the console's step-up. */
    @Get("/step-up")
    HttpResponse<?> stepUp() {
        if (!enabled) {
            return page(HttpResponse.notFound(), "console/off", Map.of());
        }
        return HttpResponse.seeOther(URI.create("/console/oauth/login/" + ConsoleSettings.STEP_UP_CLIENT)).header("Cache-Control", "no-store");
    }

    @Post(uri = "/logout", consumes = MediaType.APPLICATION_FORM_URLENCODED)
    HttpResponse<?> logout(HttpRequest<?> request, @Nullable Authentication authentication, @Nullable @Body Map<String, String> form) {
        Optional<AdminPrincipal> who = AdminPrincipal.of(authentication).filter(p -> p.kind() == AdminPrincipal.Kind.CONSOLE);
        if (who.isEmpty()) {
            return HttpResponse.seeOther(URI.create("/console/signed-out")).cookie(cleared(request));
        }
        if (!ConsoleSignOut.csrfMatches(who.get(), form == null ? null : form.get("_csrf"))) {
            return page(HttpResponse.status(io.micronaut.http.HttpStatus.FORBIDDEN), "console/signed-out",
                    Map.of("error", "The sign-out form was not sent by the console (missing or wrong CSRF token)."));
        }
        URI next = signOut.signOut(who.get(), request);
        return HttpResponse.seeOther(next).cookie(cleared(request)).header("Cache-Control", "no-store");
    }

    @Get(uri = "/signed-out", produces = MediaType.TEXT_HTML)
    HttpResponse<?> signedOut(@Nullable @QueryValue String error) {
        Map<String, Object> model = new LinkedHashMap<>();
        if ("not_an_admin".equals(error)) {
            model.put("error", "Your account at the admin identity provider has no Deputy admin role.");
        } else if (error != null) {
            model.put("error", "The sign-in did not complete. Try again.");
        }
        return page(HttpResponse.ok(), "console/signed-out", model);
    }

    private static Cookie cleared(HttpRequest<?> request) {
        String name = request.getCookies().contains(ConsoleSessions.SECURE_COOKIE) ? ConsoleSessions.SECURE_COOKIE : ConsoleSessions.COOKIE;
        return Cookie.of(name, "").path("/").httpOnly(true).secure(name.startsWith("__Host-")).sameSite(SameSite.Lax).maxAge(0);
    }

    private MutableHttpResponse<?> page(MutableHttpResponse<?> r, String view, Map<String, Object> model) {
        return r.body(new ModelAndView<>(view, model)).contentType(MediaType.TEXT_HTML + ";charset=utf-8")
                .header("Content-Security-Policy", CSP.formatted(idpOrigin))
                .header("X-Frame-Options", "DENY").header("X-Content-Type-Options", "nosniff")
                .header("Referrer-Policy", "no-referrer").header("Cache-Control", "no-store");
    }
}
