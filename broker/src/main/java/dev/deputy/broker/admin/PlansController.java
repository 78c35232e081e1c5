package dev.deputy.broker.admin;

import dev.deputy.broker.agent.AgentException;
import dev.deputy.broker.config.PlanApprovalStore;
import dev.deputy.broker.config.PlanApprovals;
import dev.deputy.broker.http.RequestMetaFilter;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.MediaType;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.PathVariable;
import io.micronaut.http.annotation.Post;
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
import io.micronaut.security.authentication.Authentication;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * {@code /admin/t/{tenant}/plans}: plans that grant a privileged role and wait for (or had) a second admin's
 * approval. {@code GET} lists them ({@code ?status=pending|approved|applied|expired}), {@code GET /{id}} shows one
 * with its plan text, {@code POST /{id}/approve} approves it (by an admin other than the one who submitted it).
 */
@Tag(name = "Plans", description = "Plans that grant a privileged role: a second admin approves them (docs/cli.md)")
@Controller("/admin/t/{tenant}/plans")
@Secured(AdminTokenValidator.ROLE)
@ExecuteOn(TaskExecutors.BLOCKING)
class PlansController {
    static final Pattern PLAN_ID = Pattern.compile("[0-9a-f]{64}");
    private final PlanApprovals approvals;
    private final AdminContext ctx;

    PlansController(PlanApprovals approvals, AdminContext ctx) {
        this.approvals = approvals;
        this.ctx = ctx;
    }

    @Operation(operationId = "listPlans", summary = "Plans waiting for (or given) a second admin's approval")
    @ApiResponse(responseCode = "200", description = "The plans", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/PlanList")))
    @ApiResponse(responseCode = "400", description = "Unknown status filter", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @ApiResponse(responseCode = "401", description = "No admin token, or an expired or revoked one")
    @ApiResponse(responseCode = "403", description = "No role for this in that tenant", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @ApiResponse(responseCode = "404", description = "Unknown tenant or object", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @Get(produces = MediaType.APPLICATION_JSON)
    HttpResponse<?> list(@Parameter(description = "Tenant id", example = "demo") @PathVariable String tenant, @Nullable @QueryValue("status") String status) {
        String t = ctx.tenant(tenant);
        if (status != null && !status.isBlank() && !List.of("pending", "approved", "applied", "expired").contains(status)) {
            throw AgentException.invalid("status must be pending, approved, applied or expired");
        }
        long now = System.currentTimeMillis();
        return AdminViews.ok(Map.of("plans", approvals.list(t).stream()
                .filter(a -> status == null || status.isBlank() || a.status(now).equals(status))
                .map(a -> view(a, now, false)).toList()));
    }

    @Operation(operationId = "showPlan", summary = "A plan with its text")
    @ApiResponse(responseCode = "200", description = "The plan", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/PlanDetail")))
    @ApiResponse(responseCode = "400", description = "Not a plan id", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @ApiResponse(responseCode = "401", description = "No admin token, or an expired or revoked one")
    @ApiResponse(responseCode = "403", description = "No role for this in that tenant", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @ApiResponse(responseCode = "404", description = "Unknown tenant or object", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @Get(uri = "/{id}", produces = MediaType.APPLICATION_JSON)
    HttpResponse<?> show(@Parameter(description = "Tenant id", example = "demo") @PathVariable String tenant, @Parameter(description = "Plan id (64 lower-case hex, as deputy plan prints it)", example = "5f0c3a9e4b1d2c7a8e6f09b1d3c5a7e9f1b3d5c7a9e0f2b4d6c8a0e2f4b6d8c0") @PathVariable String id) {
        String t = ctx.tenant(tenant);
        PlanApprovalStore.PlanApproval a = approvals.find(t, planId(id))
                .orElseThrow(() -> AgentException.notFound("no plan '" + id + "' in tenant " + t));
        return AdminViews.ok(view(a, System.currentTimeMillis(), true));
    }

    @Operation(operationId = "approvePlan", summary = "Approve a plan (an admin other than the one who submitted it)")
    @ApiResponse(responseCode = "200", description = "The approved plan", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/PlanDetail")))
    @ApiResponse(responseCode = "400", description = "Not a plan id", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @ApiResponse(responseCode = "401", description = "No admin token, or an expired or revoked one")
    @ApiResponse(responseCode = "403", description = "The submitter cannot approve, or no role for this in that tenant", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @ApiResponse(responseCode = "404", description = "Unknown tenant or object", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @ApiResponse(responseCode = "409", description = "Already approved, applied or expired: plan again", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @Post(uri = "/{id}/approve", produces = MediaType.APPLICATION_JSON)
    HttpResponse<?> approve(@Parameter(description = "Tenant id", example = "demo") @PathVariable String tenant, @Parameter(description = "Plan id (64 lower-case hex, as deputy plan prints it)", example = "5f0c3a9e4b1d2c7a8e6f09b1d3c5a7e9f1b3d5c7a9e0f2b4d6c8a0e2f4b6d8c0") @PathVariable String id, HttpRequest<?> request, Authentication auth) {
        String t = ctx.tenant(tenant);
        PlanApprovalStore.PlanApproval a = approvals.approve(t, planId(id), AdminContext.actor(auth),
                RequestMetaFilter.of(request), System.currentTimeMillis());
        return AdminViews.ok(view(a, System.currentTimeMillis(), true));
    }

    private static String planId(String id) {
        if (id == null || !PLAN_ID.matcher(id).matches()) {
            throw AgentException.invalid("a plan id is 64 lower-case hex characters (as deputy plan prints it)");
        }
        return id;
    }

    static Map<String, Object> view(PlanApprovalStore.PlanApproval a, long now, boolean withText) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("plan_id", a.planId());
        m.put("status", a.status(now));
        m.put("privileged", Arrays.asList(a.summary().split("\n")));
        m.put("requested_by", a.requestedBy());
        m.put("requested_at", AdminViews.time(a.requestedAt()));
        m.put("approved_by", a.approvedBy());
        m.put("approved_at", AdminViews.time(a.approvedAt()));
        m.put("expires_at", AdminViews.time(a.expiresAt()));
        m.put("applied_by", a.appliedBy());
        m.put("applied_at", AdminViews.time(a.appliedAt()));
        if (withText) {
            m.put("plan", a.planText());
        }
        return m;
    }
}
