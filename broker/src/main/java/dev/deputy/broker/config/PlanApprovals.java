package dev.deputy.broker.config;

import dev.deputy.broker.agent.Actor;
import dev.deputy.broker.agent.AgentException;
import dev.deputy.broker.audit.AuditEvent;
import dev.deputy.broker.audit.AuditLog;
import dev.deputy.broker.audit.EventTypes;
import dev.deputy.broker.audit.RequestMeta;
import io.micronaut.context.annotation.Value;
import jakarta.inject.Singleton;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * The second admin's approval of plans that grant a privileged role (issue 17, provisioning guardrails). A plan
 * that needs one is recorded when it is planned (the submitting admin is its requester); another admin approves it
 * by its id; apply carries it out only while the approval of exactly that id is valid, and only once. The id is a
 * digest of the normalized change set and of the files behind each change ({@link PolicyApply.Plan#id()}): a
 * changed tree or a changed broker state is another plan and needs its own approval.
 *
 * <p>Lifetime ({@code deputy.plan.approval-ttl}, default 24 h): a request can be approved within it; an approval
 * can be applied within it.
 */
@Singleton
public class PlanApprovals {
    private final PlanApprovalStore store;
    private final AuditLog audit;
    private final Duration ttl;

    public PlanApprovals(PlanApprovalStore store, AuditLog audit,
                         @Value("${deputy.plan.approval-ttl:24h}") Duration ttl) {
        this.store = store;
        this.audit = audit;
        this.ttl = ttl;
    }

    public Duration ttl() {
        return ttl;
    }

    /** The state of a plan's approval as the plan's answer shows it. */
    public record Status(String planId, String status, String requestedBy, String approvedBy, long expiresAt) {
    }

    /** Records the request of a plan that needs approval (once per live request); returns its state. */
    public Status request(String tenant, PolicyApply.Plan plan, String planText, Actor actor, RequestMeta meta) {
        long now = System.currentTimeMillis();
        Optional<PlanApprovalStore.PlanApproval> have = store.find(tenant, plan.id());
        if (have.isEmpty() || List.of("expired", "applied").contains(have.get().status(now))) {
            var a = new PlanApprovalStore.PlanApproval(tenant, plan.id(), String.join("\n", plan.privileged()), planText,
                    actor.id(), now, null, null, now + ttl.toMillis(), null, null);
            if (store.request(a, now)) {
                audit.append(AuditEvent.of(tenant, EventTypes.PLAN_APPROVAL_REQUESTED, AuditEvent.Outcome.SUCCESS)
                        .client(actor.id()).request(meta).detail("actor", actor.label()).detail("plan_id", plan.id())
                        .detail("privileged", plan.privileged()).build());
            }
            have = store.find(tenant, plan.id());
        }
        return have.map(a -> status(a, now)).orElseThrow(() -> AgentException.conflict("the plan's approval request could not be recorded"));
    }

    /** Another admin approves a pending plan. */
    public PlanApprovalStore.PlanApproval approve(String tenant, String planId, Actor actor, RequestMeta meta, long now) {
        PlanApprovalStore.PlanApproval a = store.find(tenant, planId).orElseThrow(() -> {
            refuse(tenant, planId, actor, meta, "unknown plan");
            return AgentException.notFound("no plan '" + planId + "' waits for approval in tenant " + tenant
                    + " (run deputy plan to submit it)");
        });
        String status = a.status(now);
        if (!"pending".equals(status)) {
            refuse(tenant, planId, actor, meta, "plan is " + status);
            throw AgentException.conflict("plan " + planId + " is " + status + (status.equals("expired")
                    ? "; submit it again with deputy plan" : ""));
        }
        if (a.requestedBy().equals(actor.id())) {
            refuse(tenant, planId, actor, meta, "own plan");
            throw new AgentException(AgentException.Kind.FORBIDDEN, "admin '" + actor.id()
                    + "' submitted plan " + planId + " and cannot approve it: a second admin must");
        }
        if (!store.approve(tenant, planId, actor.id(), now, now + ttl.toMillis())) {
            refuse(tenant, planId, actor, meta, "not pending any more");
            throw AgentException.conflict("plan " + planId + " is not pending any more");
        }
        audit.append(AuditEvent.of(tenant, EventTypes.PLAN_APPROVED, AuditEvent.Outcome.SUCCESS).client(actor.id())
                .request(meta).detail("actor", actor.label()).detail("plan_id", planId)
                .detail("requested_by", a.requestedBy()).build());
        return store.find(tenant, planId).orElseThrow();
    }

    /**
     * Before an apply carries out a plan that needs approval: the approval of exactly this plan, valid, by an admin
     * other than the one applying, used once. Throws {@code approval_required} (403) otherwise.
     */
    public Status consume(String tenant, PolicyApply.Plan plan, Actor actor, RequestMeta meta) {
        long now = System.currentTimeMillis();
        Optional<PlanApprovalStore.PlanApproval> have = store.find(tenant, plan.id());
        String status = have.map(a -> a.status(now)).orElse("missing");
        String why = switch (status) {
            case "approved" -> have.get().approvedBy().equals(actor.id())
                    ? "admin '" + actor.id() + "' approved plan " + plan.id() + " and cannot also apply it" : null;
            case "pending" -> "plan " + plan.id() + " waits for a second admin's approval (deputy plan approve " + plan.id() + ")";
            case "expired" -> "the approval of plan " + plan.id() + " expired; submit it again with deputy plan";
            case "applied" -> "the approval of plan " + plan.id() + " was used already; submit the plan again";
            default -> "plan " + plan.id() + " grants a privileged role and needs a second admin's approval: run deputy plan, "
                    + "then another admin runs deputy plan approve " + plan.id();
        };
        if (why == null && !store.markApplied(tenant, plan.id(), actor.id(), now)) {
            why = "the approval of plan " + plan.id() + " was used already; submit the plan again";
        }
        if (why != null) {
            refuse(tenant, plan.id(), actor, meta, why);
            throw new AgentException(AgentException.Kind.APPROVAL_REQUIRED, why);
        }
        return status(store.find(tenant, plan.id()).orElseThrow(), now);
    }

    /** After the steps of an approved plan ran. */
    public void applied(String tenant, PolicyApply.Plan plan, Actor actor, RequestMeta meta) {
        PlanApprovalStore.PlanApproval a = store.find(tenant, plan.id()).orElseThrow();
        audit.append(AuditEvent.of(tenant, EventTypes.PLAN_APPLIED, AuditEvent.Outcome.SUCCESS).client(actor.id())
                .request(meta).detail("actor", actor.label()).detail("plan_id", plan.id())
                .detail("requested_by", a.requestedBy()).detail("approved_by", a.approvedBy())
                .detail("privileged", plan.privileged()).build());
    }

    public List<PlanApprovalStore.PlanApproval> list(String tenant) {
        return store.list(tenant);
    }

    public Optional<PlanApprovalStore.PlanApproval> find(String tenant, String planId) {
        return store.find(tenant, planId);
    }

    private void refuse(String tenant, String planId, Actor actor, RequestMeta meta, String reason) {
        audit.append(AuditEvent.of(tenant, EventTypes.PLAN_REFUSED, AuditEvent.Outcome.FAILURE).client(actor.id())
                .request(meta).detail("actor", actor.label()).detail("plan_id", planId).detail("reason", reason).build());
    }

    private static Status status(PlanApprovalStore.PlanApproval a, long now) {
        return new Status(a.planId(), a.status(now), a.requestedBy(), a.approvedBy(), a.expiresAt());
    }
}
