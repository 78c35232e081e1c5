-- Admin roles per tenant (issue 15). What an admin API credential may do lives beside it and is sealed by its own
-- master-key MAC (scope_mac over client_id, role, tenants, privileged, break_glass), so that an edited role or
-- tenant list is refused like an edited secret. Rows written before this migration carry no scope: the bootstrap
-- credential 'admin' is given the break-glass super-admin scope at the next start; any other unscoped row is refused.
-- tenants: the tenant ids the role covers, one per line ('*' = every tenant). last_used_at is informational (the
-- console shows when the break-glass secret was last used) and not sealed.
ALTER TABLE admin_credentials ADD COLUMN role VARCHAR(32) NULL;
ALTER TABLE admin_credentials ADD COLUMN tenants VARCHAR(4000) NULL;
ALTER TABLE admin_credentials ADD COLUMN privileged BOOLEAN NULL;
ALTER TABLE admin_credentials ADD COLUMN break_glass BOOLEAN NULL;
ALTER TABLE admin_credentials ADD COLUMN scope_mac VARCHAR(64) NULL;
ALTER TABLE admin_credentials ADD COLUMN rotated_at BIGINT NULL;
ALTER TABLE admin_credentials ADD COLUMN last_used_at BIGINT NULL;
