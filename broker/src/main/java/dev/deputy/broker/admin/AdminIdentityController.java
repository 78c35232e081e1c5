package dev.deputy.broker.admin;

import dev.deputy.broker.http.RequestMetaFilter;
import dev.deputy.broker.tenant.Tenants;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.MediaType;
import io.micronaut.http.annotation.Body;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.Post;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import io.micronaut.security.annotation.Secured;
import io.micronaut.security.authentication.Authentication;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Who am I ({@code GET /admin/whoami}: any admin), the break-glass credential ({@code /admin/break-glass}: its state,
 * rotate, disable, enable) and scoped automation credentials ({@code /admin/credentials}). All but whoami are for a
 * super admin ({@link AdminAccessFilter}); the changes are privileged (step-up).
 */
@Controller("/admin")
@Secured(AdminTokenValidator.ROLE)
@ExecuteOn(TaskExecutors.BLOCKING)
class AdminIdentityController {
    private final AdminAuth auth;
    private final StepUp stepUp;
    private final Tenants tenants;

    AdminIdentityController(AdminAuth auth, StepUp stepUp, Tenants tenants) {
        this.auth = auth;
        this.stepUp = stepUp;
        this.tenants = tenants;
    }

    @Get(uri = "/whoami", produces = MediaType.APPLICATION_JSON)
    HttpResponse<?> whoami(Authentication authentication) {
        AdminPrincipal p = AdminPrincipal.of(authentication).orElseThrow(() -> AdminRefusal.forbidden("not an admin"));
        return AdminViews.ok(view(p, stepUp));
    }

    static Map<String, Object> view(AdminPrincipal p, StepUp stepUp) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("admin", p.name());
        out.put("kind", p.kind().name().toLowerCase(java.util.Locale.ROOT));
        List<Map<String, Object>> grants = new ArrayList<>();
        for (AdminGrant g : p.grants()) {
            grants.add(Map.of("role", g.role().id(), "tenants", g.tenants()));
        }
        out.put("grants", grants);
        long now = System.currentTimeMillis() / 1000;
        out.put("privileged_now", stepUp.satisfied(p, now));
        if (p.mfa() != null) {
            out.put("acr", p.mfa().acr());
            out.put("amr", p.mfa().amr());
            out.put("auth_time", p.mfa().authTime() == null ? null : Instant.ofEpochSecond(p.mfa().authTime()).toString());
        }
        if (p.session() != null) {
            // same-origin only (the admin API answers no CORS request); a page sends it back in X-CSRF-Token
            out.put("csrf_token", p.session().csrf());
        }
        return out;
    }

    @Get(uri = "/break-glass", produces = MediaType.APPLICATION_JSON)
    HttpResponse<?> breakGlass() {
        return AdminViews.ok(auth.breakGlassStatus());
    }

    @Post(uri = "/break-glass/rotate", produces = MediaType.APPLICATION_JSON)
    HttpResponse<?> rotate(HttpRequest<?> request, Authentication authentication) {
        String secret = auth.rotateBreakGlass(authentication.getName(), RequestMetaFilter.of(request));
        Map<String, Object> out = new LinkedHashMap<>(auth.breakGlassStatus());
        out.put("client_secret", secret);
        return AdminViews.ok(out).header("Cache-Control", "no-store");
    }

    @Post(uri = "/break-glass/disable", produces = MediaType.APPLICATION_JSON)
    HttpResponse<?> disable(HttpRequest<?> request, Authentication authentication) {
        auth.setBreakGlassEnabled(false, authentication.getName(), RequestMetaFilter.of(request));
        return AdminViews.ok(auth.breakGlassStatus());
    }

    @Post(uri = "/break-glass/enable", produces = MediaType.APPLICATION_JSON)
    HttpResponse<?> enable(HttpRequest<?> request, Authentication authentication) {
        auth.setBreakGlassEnabled(true, authentication.getName(), RequestMetaFilter.of(request));
        return AdminViews.ok(auth.breakGlassStatus());
    }

    record CredentialRequest(String clientId, String role, List<String> tenants, Boolean privileged) {
    }

    @Get(uri = "/credentials", produces = MediaType.APPLICATION_JSON)
    HttpResponse<?> credentials() {
        List<Map<String, Object>> items = new ArrayList<>();
        for (var c : auth.credentials()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("client_id", c.clientId());
            m.put("enabled", !c.disabled());
            m.put("role", c.scope() == null ? null : c.scope().role().id());
            m.put("tenants", c.scope() == null ? List.of() : c.scope().tenants());
            m.put("privileged", c.scope() != null && c.scope().privileged());
            m.put("break_glass", c.scope() != null && c.scope().breakGlass());
            m.put("created_at", AdminViews.time(c.createdAt()));
            m.put("last_used_at", AdminViews.time(c.lastUsedAt()));
            items.add(m);
        }
        return AdminViews.ok(Map.of("credentials", items));
    }

    @Post(uri = "/credentials", consumes = MediaType.APPLICATION_JSON, produces = MediaType.APPLICATION_JSON)
    HttpResponse<?> create(@Nullable @Body String body, HttpRequest<?> request, Authentication authentication) {
        CredentialRequest r = AdminJson.read(body, CredentialRequest.class, true);
        AdminRole role = AdminRole.parse(r.role()).orElseThrow(() -> dev.deputy.broker.agent.AgentException.invalid(
                "role must be super_admin, tenant_admin, auditor or agent_owner"));
        List<String> ts = r.tenants() == null ? List.of() : r.tenants();
        if (role != AdminRole.SUPER_ADMIN) {
            if (ts.isEmpty()) {
                throw dev.deputy.broker.agent.AgentException.invalid("tenants is required for role " + role.id() + " ('*': every tenant)");
            }
            for (String t : ts) {
                if (!AdminGrant.ALL.equals(t) && tenants.find(t).isEmpty()) {
                    throw dev.deputy.broker.agent.AgentException.invalid("no tenant '" + AdminErrors.describable(t) + "'");
                }
            }
        }
        boolean privileged = Boolean.TRUE.equals(r.privileged());
        String secret = auth.createCredential(r.clientId(), new AdminCredentialStore.Scope(role, ts, privileged, false),
                authentication.getName(), RequestMetaFilter.of(request));
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("client_id", r.clientId());
        out.put("client_secret", secret);
        out.put("role", role.id());
        out.put("tenants", new AdminCredentialStore.Scope(role, ts, privileged, false).tenants());
        out.put("privileged", privileged);
        return AdminViews.respond(201, out).header("Cache-Control", "no-store");
    }
}
