-- The console overview counts token issuance and refusals per hour over the last 24 hours (AuditStore.countByHour):
-- one aggregate per tenant, grouped by event type and hour. With (tenant_id, event_type, at_ms) it is one index range
-- per event type read from the index alone, whatever the size of the trail; without it, the (tenant_id, at_ms, seq)
-- index gives the range but every entry's row must be read for its type.
CREATE INDEX audit_log_type_time ON audit_log (tenant_id, event_type, at_ms);
