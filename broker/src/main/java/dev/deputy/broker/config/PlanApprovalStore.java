package dev.deputy.broker.config;

import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Privileged roles and the approvals of plans that grant them (port; implemented in storage, row-sealed). A plan is
 * named by its id ({@link PolicyApply.Plan#id()}); an approval covers that id only.
 */
public interface PlanApprovalStore {
    /** One plan that needs (or had) a second admin's approval. Times are epoch milliseconds. */
    record PlanApproval(String tenantId, String planId, String summary, String planText, String requestedBy,
                        long requestedAt, String approvedBy, Long approvedAt, long expiresAt, String appliedBy,
                        Long appliedAt) {
        /** pending, approved, applied or expired. */
        public String status(long now) {
            if (appliedAt != null) {
                return "applied";
            }
            if (now >= expiresAt) {
                return "expired";
            }
            return approvedBy != null ? "approved" : "pending";
        }
    }

    Set<String> privilegedRoles(String tenantId);

    void setPrivileged(String tenantId, String role, boolean privileged, long now);

    Optional<PlanApproval> find(String tenantId, String planId);

    /** Newest first. */
    List<PlanApproval> list(String tenantId);

    /** Records a request, replacing an expired or applied one of the same id; false when a live one exists. */
    boolean request(PlanApproval request, long now);

    /** Approves a pending, unexpired request; false when it is not pending any more (raced, approved, applied). */
    boolean approve(String tenantId, String planId, String approvedBy, long approvedAt, long expiresAt);

    /** Marks an approved plan applied (single use); false when it was applied already. */
    boolean markApplied(String tenantId, String planId, String appliedBy, long appliedAt);
}
