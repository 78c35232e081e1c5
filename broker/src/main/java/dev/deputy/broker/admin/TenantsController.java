package dev.deputy.broker.admin;

import dev.deputy.broker.agent.AgentException;
import dev.deputy.broker.config.RateLimitsFile;
import dev.deputy.broker.config.TenantDormancy;
import dev.deputy.broker.policy.DelegationPolicy;
import dev.deputy.broker.policy.DelegationRule;
import dev.deputy.broker.policy.Policies;
import dev.deputy.broker.ratelimit.RateLimiter;
import dev.deputy.broker.tenant.Tenant;
import dev.deputy.broker.tenant.Tenants;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.MediaType;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.PathVariable;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import io.micronaut.security.annotation.Secured;
import io.micronaut.security.authentication.Authentication;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.tags.Tag;

import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Read routes for tenants and their delegation rules: {@code GET /admin/tenants}, {@code GET /admin/t/{tenant}}
 * (the settings in effect: tenant.yml with the broker defaults) and {@code GET /admin/t/{tenant}/policies[/{id}]}.
 * Tenants and rules change through their files (plan/apply); there are no write routes.
 */
@Tag(name = "Tenants", description = "Tenants, their settings in effect and their delegation rules (read-only: they change through plan/apply)")
@Controller("/admin")
@Secured(AdminTokenValidator.ROLE)
@ExecuteOn(TaskExecutors.BLOCKING)
class TenantsController {
    private final Tenants tenants;
    private final AdminContext ctx;
    private final Policies policies;
    private final RateLimiter limiter;
    private final TenantDormancy dormancy;

    TenantsController(Tenants tenants, AdminContext ctx, Policies policies, RateLimiter limiter, TenantDormancy dormancy) {
        this.tenants = tenants;
        this.ctx = ctx;
        this.policies = policies;
        this.limiter = limiter;
        this.dormancy = dormancy;
    }

    @Operation(operationId = "listTenants", summary = "The tenants this admin may see: all for a super admin, else those it holds a role in")
    @ApiResponse(responseCode = "200", description = "The tenants", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/TenantList")))
    @ApiResponse(responseCode = "401", description = "No admin token, or an expired or revoked one")
    @Get(uri = "/tenants", produces = MediaType.APPLICATION_JSON)
    HttpResponse<?> list(@Nullable Authentication auth) {
        // a super admin sees every tenant; any other admin only the tenants it has a grant on (any role there)
        AdminPrincipal p = AdminPrincipal.of(auth).orElse(null);
        return AdminViews.ok(Map.of("tenants", tenants.all().stream()
                .filter(t -> p != null && (p.superAdmin() || !p.rolesIn(t.id()).isEmpty()))
                .sorted(Comparator.comparing(Tenant::id)).map(t -> summary(t)).toList()));
    }

    @Operation(operationId = "showTenant", summary = "A tenant's settings in effect (tenant.yml with the broker defaults)")
    @ApiResponse(responseCode = "200", description = "The settings", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/TenantSettings")))
    @ApiResponse(responseCode = "401", description = "No admin token, or an expired or revoked one")
    @ApiResponse(responseCode = "403", description = "No role for this in that tenant", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @ApiResponse(responseCode = "404", description = "Unknown tenant or object", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @Get(uri = "/t/{tenant}", produces = MediaType.APPLICATION_JSON)
    HttpResponse<?> show(@Parameter(description = "Tenant id", example = "demo") @PathVariable String tenant) {
        Tenant t = tenants.find(ctx.tenant(tenant)).orElseThrow();
        Map<String, Object> m = summary(t);
        m.put("signing_alg", t.signingAlg());
        m.put("access_token_ttl_seconds", t.accessTokenTtl().toSeconds());
        m.put("key_rotation_period_seconds", t.keyRotationPeriod().toSeconds());
        m.put("key_prepublish_seconds", t.keyPrepublish().toSeconds());
        m.put("introspection_allowed_clients", t.introspectionClients() == null ? null
                : t.introspectionClients().stream().sorted().toList());
        TenantDormancy.Setting d = dormancy.of(t.id());
        m.put("dormancy", Map.of("period_seconds", d.period().toSeconds(), "auto_suspend", d.autoSuspend()));
        RateLimitsFile r = limiter.limits(t);
        Map<String, Object> limits = new LinkedHashMap<>();
        limits.put("token_per_client", String.valueOf(r.tokenPerClient()));
        limits.put("tenant", String.valueOf(r.tenant()));
        limits.put("authorize_per_source", String.valueOf(r.authorizePerSource()));
        limits.put("failed_client_auth_per_source", String.valueOf(r.failedClientAuthPerSource()));
        m.put("rate_limits", limits);
        m.put("delegation_rules", policies.of(t.id()).rules().size());
        return AdminViews.ok(m);
    }

    @Operation(operationId = "listDelegationRules", summary = "The tenant's delegation rules")
    @ApiResponse(responseCode = "200", description = "The rules", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/DelegationPolicy")))
    @ApiResponse(responseCode = "401", description = "No admin token, or an expired or revoked one")
    @ApiResponse(responseCode = "403", description = "No role for this in that tenant", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @ApiResponse(responseCode = "404", description = "Unknown tenant or object", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @Get(uri = "/t/{tenant}/policies", produces = MediaType.APPLICATION_JSON)
    HttpResponse<?> policies(@Parameter(description = "Tenant id", example = "demo") @PathVariable String tenant) {
        DelegationPolicy p = policies.of(ctx.tenant(tenant));
        return AdminViews.ok(Map.of("max_chain_depth", p.maxChainDepth(),
                "rules", p.rules().stream().map(TenantsController::rule).toList()));
    }

    @Operation(operationId = "showDelegationRule", summary = "One delegation rule")
    @ApiResponse(responseCode = "200", description = "The rule", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/DelegationRule")))
    @ApiResponse(responseCode = "401", description = "No admin token, or an expired or revoked one")
    @ApiResponse(responseCode = "403", description = "No role for this in that tenant", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @ApiResponse(responseCode = "404", description = "Unknown tenant or object", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @Get(uri = "/t/{tenant}/policies/{id}", produces = MediaType.APPLICATION_JSON)
    HttpResponse<?> policy(@Parameter(description = "Tenant id", example = "demo") @PathVariable String tenant, @Parameter(description = "Rule id", example = "payments.settlement.reconciler-for-finance") @PathVariable String id) {
        DelegationPolicy p = policies.of(ctx.tenant(tenant));
        return AdminViews.ok(p.rules().stream().filter(r -> r.id().equals(id)).findFirst().map(TenantsController::rule)
                .orElseThrow(() -> AgentException.notFound("no delegation rule '" + id + "' in tenant " + tenant)));
    }

    private static Map<String, Object> summary(Tenant t) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", t.id());
        m.put("display_name", t.displayName());
        return m;
    }

    static Map<String, Object> rule(DelegationRule r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", r.id());
        m.put("description", r.description());
        m.put("effect", r.effect().name().toLowerCase(java.util.Locale.ROOT));
        m.put("agents", r.agents());
        m.put("agent_roles", r.agentRoles());
        Map<String, Object> users = null;
        if (r.users() != null) {
            users = new LinkedHashMap<>();
            users.put("all", r.users().all());
            users.put("groups", r.users().groups());
            users.put("roles", r.users().roles());
            users.put("connectors", r.users().connectors());
        }
        m.put("users", users);
        m.put("resources", r.resources());
        m.put("scopes", r.scopes());
        m.put("max_depth", r.maxDepth());
        return m;
    }

}
