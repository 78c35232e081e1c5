-- Identifiers never break the trail (issue 13): a token's granted scopes (40 scopes of 60 characters is 2,400
-- characters), a deep actor chain and large details (a policy-as-code run listing a thousand changes) must fit.
-- These columns are not indexed; the indexed identifier columns keep their sizes and AuditSchema shortens an
-- identifier longer than its column to a prefix and the SHA-256 of the whole value (with an alarm).
ALTER TABLE audit_log MODIFY scopes TEXT NULL;
ALTER TABLE audit_log MODIFY actor TEXT NULL;
ALTER TABLE audit_log MODIFY details MEDIUMTEXT NULL;
