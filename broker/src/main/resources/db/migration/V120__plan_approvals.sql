-- Policy-as-code guardrails (issue 17): roles marked privileged in their file, and the second admin's approval a
-- plan needs before it grants one. Both tables are row-sealed (storage.SealedRows): a row planted or edited by
-- someone without the master key is never used.
--
-- role_privileges: one row per privileged role (present = privileged); written by apply from roles/*.yml.
CREATE TABLE role_privileges (
  tenant_id VARCHAR(64) NOT NULL,
  role_name VARCHAR(128) NOT NULL,
  since BIGINT NOT NULL,
  row_mac VARCHAR(64) NOT NULL,
  PRIMARY KEY (tenant_id, role_name)
);

-- plan_approvals: a plan that grants a privileged role, by plan id (SHA-256 of the normalized change set and the
-- files behind it). requested_by submitted it; approved_by (another admin) approved it; applied_at marks it used
-- (an approval is single-use). expires_at: 24 h after the request, then 24 h after the approval.
CREATE TABLE plan_approvals (
  tenant_id VARCHAR(64) NOT NULL,
  plan_id VARCHAR(64) NOT NULL,
  summary TEXT NOT NULL,
  plan_text TEXT NOT NULL,
  requested_by VARCHAR(255) NOT NULL,
  requested_at BIGINT NOT NULL,
  approved_by VARCHAR(255) NULL,
  approved_at BIGINT NULL,
  expires_at BIGINT NOT NULL,
  applied_by VARCHAR(255) NULL,
  applied_at BIGINT NULL,
  row_mac VARCHAR(64) NOT NULL,
  PRIMARY KEY (tenant_id, plan_id)
);
