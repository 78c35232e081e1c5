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

    @Get(produces = MediaType.APPLICATION_JSON)
    HttpResponse<?> list(@PathVariable String tenant, @Nullable @QueryValue("status") String status) {
        String t = ctx.tenant(tenant);
        if (status != null && !status.isBlank() && !List.of("pending", "approved", "applied", "expired").contains(status)) {
            throw AgentException.invalid("status must be pending, approved, applied or expired");
        }
        long now = System.currentTimeMillis();
        return AdminViews.ok(Map.of("plans", approvals.list(t).stream()
                .filter(a -> status == null || status.isBlank() || a.status(now).equals(status))
                .map(a -> view(a, now, false)).toList()));
    }

    @Get(uri = "/{id}", produces = MediaType.APPLICATION_JSON)
    HttpResponse<?> show(@PathVariable String tenant, @PathVariable String id) {
        String t = ctx.tenant(tenant);
        PlanApprovalStore.PlanApproval a = approvals.find(t, planId(id))
                .orElseThrow(() -> AgentException.notFound("no plan '" + id + "' in tenant " + t));
        return AdminViews.ok(view(a, System.currentTimeMillis(), true));
    }

    @Post(uri = "/{id}/approve", produces = MediaType.APPLICATION_JSON)
    HttpResponse<?> approve(@PathVariable String tenant, @PathVariable String id, HttpRequest<?> request, Authentication auth) {
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
