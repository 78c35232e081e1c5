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
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.tags.Tag;

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
@Tag(name = "Admin identity", description = "Who am I, the break-glass credential and scoped automation credentials (docs/console.md)")
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

    @Operation(operationId = "whoami", summary = "Who the caller is: its kind, role grants and whether a privileged change is allowed now")
    @ApiResponse(responseCode = "200", description = "The calling admin", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/AdminWhoami")))
    @ApiResponse(responseCode = "401", description = "No admin token, or an expired or revoked one")
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
        // every member present (null when it does not apply: the sign-in facts and CSRF token are the console's only)
        out.put("acr", p.mfa() == null ? null : p.mfa().acr());
        out.put("amr", p.mfa() == null || p.mfa().amr() == null ? null : p.mfa().amr());
        out.put("auth_time", p.mfa() == null || p.mfa().authTime() == null ? null : Instant.ofEpochSecond(p.mfa().authTime()).toString());
        // same-origin only (the admin API answers no CORS request); a page sends it back in X-CSRF-Token
        out.put("csrf_token", p.session() == null ? null : p.session().csrf());
        return out;
    }

    @Operation(operationId = "showBreakGlass", summary = "The break-glass credential's state (never its secret)")
    @ApiResponse(responseCode = "200", description = "Its state", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/BreakGlassStatus")))
    @ApiResponse(responseCode = "401", description = "No admin token, an expired or revoked one, or (privileged changes from the console) a step-up challenge")
    @ApiResponse(responseCode = "403", description = "Not a super admin, or not privileged for this change", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @Get(uri = "/break-glass", produces = MediaType.APPLICATION_JSON)
    HttpResponse<?> breakGlass() {
        return AdminViews.ok(auth.breakGlassStatus());
    }

    @Operation(operationId = "rotateBreakGlass", summary = "A new break-glass secret, shown once")
    @ApiResponse(responseCode = "200", description = "Its state and the new secret", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/BreakGlassRotated")))
    @ApiResponse(responseCode = "401", description = "No admin token, an expired or revoked one, or (privileged changes from the console) a step-up challenge")
    @ApiResponse(responseCode = "403", description = "Not a super admin, or not privileged for this change", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @ApiResponse(responseCode = "409", description = "The secret is injected at deployment: rotate it there", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @Post(uri = "/break-glass/rotate", produces = MediaType.APPLICATION_JSON)
    HttpResponse<?> rotate(HttpRequest<?> request, Authentication authentication) {
        String secret = auth.rotateBreakGlass(authentication.getName(), RequestMetaFilter.of(request));
        Map<String, Object> out = new LinkedHashMap<>(auth.breakGlassStatus());
        out.put("client_secret", secret);
        return AdminViews.ok(out).header("Cache-Control", "no-store");
    }

    @Operation(operationId = "disableBreakGlass", summary = "Disable the break-glass credential (its tokens stop at once)")
    @ApiResponse(responseCode = "200", description = "Its state", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/BreakGlassStatus")))
    @ApiResponse(responseCode = "401", description = "No admin token, an expired or revoked one, or (privileged changes from the console) a step-up challenge")
    @ApiResponse(responseCode = "403", description = "Not a super admin, or not privileged for this change", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @Post(uri = "/break-glass/disable", produces = MediaType.APPLICATION_JSON)
    HttpResponse<?> disable(HttpRequest<?> request, Authentication authentication) {
        auth.setBreakGlassEnabled(false, authentication.getName(), RequestMetaFilter.of(request));
        return AdminViews.ok(auth.breakGlassStatus());
    }

    @Operation(operationId = "enableBreakGlass", summary = "Enable the break-glass credential again")
    @ApiResponse(responseCode = "200", description = "Its state", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/BreakGlassStatus")))
    @ApiResponse(responseCode = "401", description = "No admin token, an expired or revoked one, or (privileged changes from the console) a step-up challenge")
    @ApiResponse(responseCode = "403", description = "Not a super admin, or not privileged for this change", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @Post(uri = "/break-glass/enable", produces = MediaType.APPLICATION_JSON)
    HttpResponse<?> enable(HttpRequest<?> request, Authentication authentication) {
        auth.setBreakGlassEnabled(true, authentication.getName(), RequestMetaFilter.of(request));
        return AdminViews.ok(auth.breakGlassStatus());
    }

    record CredentialRequest(String clientId, String role, List<String> tenants, Boolean privileged) {
    }

    @Operation(operationId = "listAdminCredentials", summary = "Scoped admin credentials for automation (never their secrets)")
    @ApiResponse(responseCode = "200", description = "The credentials", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/AdminCredentialList")))
    @ApiResponse(responseCode = "401", description = "No admin token, an expired or revoked one, or (privileged changes from the console) a step-up challenge")
    @ApiResponse(responseCode = "403", description = "Not a super admin, or not privileged for this change", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
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

    @io.swagger.v3.oas.annotations.parameters.RequestBody(required = true, content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/AdminCredentialRequest")))
    @Operation(operationId = "createAdminCredential", summary = "Create a scoped admin credential; its secret is shown once")
    @ApiResponse(responseCode = "201", description = "The credential and its secret", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/AdminCredentialCreated")))
    @ApiResponse(responseCode = "400", description = "Malformed or refused input; nothing changed", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @ApiResponse(responseCode = "401", description = "No admin token, an expired or revoked one, or (privileged changes from the console) a step-up challenge")
    @ApiResponse(responseCode = "403", description = "Not a super admin, or not privileged for this change", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @ApiResponse(responseCode = "409", description = "A credential with this client_id exists", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
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
