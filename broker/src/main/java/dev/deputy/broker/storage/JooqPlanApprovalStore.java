package dev.deputy.broker.storage;

import dev.deputy.broker.config.PlanApprovalStore;
import jakarta.inject.Singleton;
import org.jooq.Field;
import org.jooq.Record;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

import static dev.deputy.broker.storage.jooq.Tables.PLAN_APPROVALS;
import static dev.deputy.broker.storage.jooq.Tables.ROLE_PRIVILEGES;

/** Privileged roles and plan approvals; rows failing their master-key MAC ({@link SealedRows}) are never used. */
@Singleton
class JooqPlanApprovalStore implements PlanApprovalStore {
    private final Database db;
    private final SealedRows sealed;

    JooqPlanApprovalStore(Database db, SealedRows sealed) {
        this.db = db;
        this.sealed = sealed;
    }

    @Override
    public Set<String> privilegedRoles(String tenantId) {
        Set<String> out = new TreeSet<>();
        sealed.valid(SealedRows.ROLE_PRIVILEGE, () -> db.read(dsl -> dsl.selectFrom(ROLE_PRIVILEGES)
                .where(ROLE_PRIVILEGES.TENANT_ID.eq(tenantId)).fetch())).forEach(r -> out.add(r.getRoleName()));
        return out;
    }

    @Override
    public void setPrivileged(String tenantId, String role, boolean privileged, long now) {
        if (!privileged) {
            db.tx(dsl -> dsl.deleteFrom(ROLE_PRIVILEGES).where(ROLE_PRIVILEGES.TENANT_ID.eq(tenantId)
                    .and(ROLE_PRIVILEGES.ROLE_NAME.eq(role))).execute());
            return;
        }
        Map<Field<?>, Object> row = new LinkedHashMap<>();
        row.put(ROLE_PRIVILEGES.TENANT_ID, tenantId);
        row.put(ROLE_PRIVILEGES.ROLE_NAME, role);
        row.put(ROLE_PRIVILEGES.SINCE, now);
        String mac = sealed.mac(SealedRows.ROLE_PRIVILEGE, row);
        db.tx(dsl -> {
            dsl.deleteFrom(ROLE_PRIVILEGES).where(ROLE_PRIVILEGES.TENANT_ID.eq(tenantId).and(ROLE_PRIVILEGES.ROLE_NAME.eq(role)))
                    .execute();
            return dsl.insertInto(ROLE_PRIVILEGES).set(row).set(ROLE_PRIVILEGES.ROW_MAC, mac).execute();
        });
    }

    @Override
    public Optional<PlanApproval> find(String tenantId, String planId) {
        return sealed.validOne(SealedRows.PLAN_APPROVAL, () -> db.read(dsl -> dsl.selectFrom(PLAN_APPROVALS)
                .where(PLAN_APPROVALS.TENANT_ID.eq(tenantId).and(PLAN_APPROVALS.PLAN_ID.eq(planId))).fetchOptional()))
                .map(JooqPlanApprovalStore::of);
    }

    @Override
    public List<PlanApproval> list(String tenantId) {
        return sealed.valid(SealedRows.PLAN_APPROVAL, () -> db.read(dsl -> dsl.selectFrom(PLAN_APPROVALS)
                        .where(PLAN_APPROVALS.TENANT_ID.eq(tenantId)).orderBy(PLAN_APPROVALS.REQUESTED_AT.desc()).limit(500).fetch()))
                .stream().map(JooqPlanApprovalStore::of).toList();
    }

    @Override
    public boolean request(PlanApproval a, long now) {
        Map<Field<?>, Object> row = new LinkedHashMap<>();
        row.put(PLAN_APPROVALS.TENANT_ID, a.tenantId());
        row.put(PLAN_APPROVALS.PLAN_ID, a.planId());
        row.put(PLAN_APPROVALS.SUMMARY, a.summary());
        row.put(PLAN_APPROVALS.PLAN_TEXT, a.planText());
        row.put(PLAN_APPROVALS.REQUESTED_BY, a.requestedBy());
        row.put(PLAN_APPROVALS.REQUESTED_AT, a.requestedAt());
        row.put(PLAN_APPROVALS.APPROVED_BY, null);
        row.put(PLAN_APPROVALS.APPROVED_AT, null);
        row.put(PLAN_APPROVALS.EXPIRES_AT, a.expiresAt());
        row.put(PLAN_APPROVALS.APPLIED_BY, null);
        row.put(PLAN_APPROVALS.APPLIED_AT, null);
        String mac = sealed.mac(SealedRows.PLAN_APPROVAL, row);
        return db.tx(dsl -> {
            var key = PLAN_APPROVALS.TENANT_ID.eq(a.tenantId()).and(PLAN_APPROVALS.PLAN_ID.eq(a.planId()));
            // a used or expired request of the same id makes way for the new one; a live one stays
            dsl.deleteFrom(PLAN_APPROVALS).where(key).and(PLAN_APPROVALS.APPLIED_AT.isNotNull()
                    .or(PLAN_APPROVALS.EXPIRES_AT.le(now))).execute();
            return dsl.insertInto(PLAN_APPROVALS).set(row).set(PLAN_APPROVALS.ROW_MAC, mac).onDuplicateKeyIgnore().execute() == 1;
        });
    }

    @Override
    public boolean approve(String tenantId, String planId, String approvedBy, long approvedAt, long expiresAt) {
        Map<Field<?>, Object> changes = new LinkedHashMap<>();
        changes.put(PLAN_APPROVALS.APPROVED_BY, approvedBy);
        changes.put(PLAN_APPROVALS.APPROVED_AT, approvedAt);
        changes.put(PLAN_APPROVALS.EXPIRES_AT, expiresAt);
        return db.tx(dsl -> sealed.update(dsl, SealedRows.PLAN_APPROVAL, PLAN_APPROVALS.TENANT_ID.eq(tenantId)
                .and(PLAN_APPROVALS.PLAN_ID.eq(planId)).and(PLAN_APPROVALS.APPROVED_BY.isNull())
                .and(PLAN_APPROVALS.APPLIED_AT.isNull()).and(PLAN_APPROVALS.EXPIRES_AT.gt(approvedAt)), changes)) == 1;
    }

    @Override
    public boolean markApplied(String tenantId, String planId, String appliedBy, long appliedAt) {
        Map<Field<?>, Object> changes = new LinkedHashMap<>();
        changes.put(PLAN_APPROVALS.APPLIED_BY, appliedBy);
        changes.put(PLAN_APPROVALS.APPLIED_AT, appliedAt);
        return db.tx(dsl -> sealed.update(dsl, SealedRows.PLAN_APPROVAL, PLAN_APPROVALS.TENANT_ID.eq(tenantId)
                .and(PLAN_APPROVALS.PLAN_ID.eq(planId)).and(PLAN_APPROVALS.APPLIED_AT.isNull()), changes)) == 1;
    }

    private static PlanApproval of(Record r) {
        return new PlanApproval(r.get(PLAN_APPROVALS.TENANT_ID), r.get(PLAN_APPROVALS.PLAN_ID), r.get(PLAN_APPROVALS.SUMMARY),
                r.get(PLAN_APPROVALS.PLAN_TEXT), r.get(PLAN_APPROVALS.REQUESTED_BY), r.get(PLAN_APPROVALS.REQUESTED_AT),
                r.get(PLAN_APPROVALS.APPROVED_BY), r.get(PLAN_APPROVALS.APPROVED_AT), r.get(PLAN_APPROVALS.EXPIRES_AT),
                r.get(PLAN_APPROVALS.APPLIED_BY), r.get(PLAN_APPROVALS.APPLIED_AT));
    }
}
