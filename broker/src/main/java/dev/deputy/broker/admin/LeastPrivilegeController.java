package dev.deputy.broker.admin;

import dev.deputy.broker.agent.AgentException;
import dev.deputy.broker.governance.LeastPrivilege;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.MediaType;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.PathVariable;
import io.micronaut.http.annotation.QueryValue;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import io.micronaut.security.annotation.Secured;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.tags.Tag;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The least-privilege report (docs/governance.md): {@code GET /admin/t/{tenant}/agents/{id}/least-privilege} for one
 * agent, {@code GET /admin/t/{tenant}/least-privilege} for every agent not revoked; {@code since} (a duration ago such
 * as 30d, or an ISO-8601 instant; default 30d) and {@code until} (default now) bound the window.
 */
@Tag(name = "Least privilege", description = "Which granted scopes agents used in a window, and which roles to drop or narrow (docs/governance.md)")
@Controller("/admin/t/{tenant}")
@Secured(AdminTokenValidator.ROLE)
@ExecuteOn(TaskExecutors.BLOCKING)
class LeastPrivilegeController {
    static final Duration DEFAULT_WINDOW = Duration.ofDays(30);
    static final Duration MAX_WINDOW = Duration.ofDays(400);
    private final LeastPrivilege reports;
    private final AdminContext ctx;

    LeastPrivilegeController(LeastPrivilege reports, AdminContext ctx) {
        this.reports = reports;
        this.ctx = ctx;
    }

    @Operation(operationId = "agentLeastPrivilege", summary = "One agent's least-privilege report: scopes granted, used and unused, and a recommendation")
    @ApiResponse(responseCode = "200", description = "The report", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/LeastPrivilegeReport")))
    @ApiResponse(responseCode = "400", description = "A bad since/until window", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @ApiResponse(responseCode = "401", description = "No admin token, or an expired or revoked one")
    @ApiResponse(responseCode = "403", description = "No role for this in that tenant", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @ApiResponse(responseCode = "404", description = "Unknown tenant or agent", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @Get(uri = "/agents/{id}/least-privilege", produces = MediaType.APPLICATION_JSON)
    HttpResponse<?> one(@Parameter(description = "Tenant id", example = "demo") @PathVariable String tenant, @Parameter(description = "Agent id", example = "payments.settlement.reconciler") @PathVariable String id, @Nullable @QueryValue String since,
                        @Nullable @QueryValue String until) {
        String t = ctx.tenant(tenant);
        long[] w = window(since, until);
        return AdminViews.ok(reports.report(t, id, w[0], w[1]));
    }

    @Operation(operationId = "tenantLeastPrivilege", summary = "The least-privilege report of every agent not revoked")
    @ApiResponse(responseCode = "200", description = "The report", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/LeastPrivilegeReports")))
    @ApiResponse(responseCode = "400", description = "A bad since/until window", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @ApiResponse(responseCode = "401", description = "No admin token, or an expired or revoked one")
    @ApiResponse(responseCode = "403", description = "No role for this in that tenant", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @ApiResponse(responseCode = "404", description = "Unknown tenant or agent", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @Get(uri = "/least-privilege", produces = MediaType.APPLICATION_JSON)
    HttpResponse<?> all(@Parameter(description = "Tenant id", example = "demo") @PathVariable String tenant, @Nullable @QueryValue String since,
                        @Nullable @QueryValue String until) {
        String t = ctx.tenant(tenant);
        long[] w = window(since, until);
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("agents", reports.all(t, w[0], w[1]));
        return AdminViews.ok(body);
    }

    static long[] window(String since, String until) {
        long now = System.currentTimeMillis();
        Long from;
        Long to;
        try {
            from = AuditAdminController.time(since);
            to = AuditAdminController.time(until);
        } catch (RuntimeException e) { // unparsable, or a duration too large to subtract
            throw AgentException.invalid("since/until: an ISO-8601 instant, epoch milliseconds, or a duration ago like"
                    + " 24h, 7d, 30d");
        }
        long end = to == null ? now : to;
        long start = from == null ? end - DEFAULT_WINDOW.toMillis() : from;
        if (start >= end) {
            throw AgentException.invalid("since must be before until");
        }
        if (end - start > MAX_WINDOW.toMillis()) {
            throw AgentException.invalid("the window is at most 400 days");
        }
        return new long[]{start, end};
    }
}
