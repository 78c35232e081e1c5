-- "Everything agent X did of type T" (e.g. one agent's token.exchanged entries, or none): the side index
-- carries the entry's event type, so the query is one range of (tenant_id, agent_id, event_type, seq) in seq
-- order instead of a walk of the agent's whole range in audit_agents joined to audit_log and filtered there.
-- Written in the same transaction as the entry (JooqAuditStore.insert); not part of the hash.
ALTER TABLE audit_agents ADD COLUMN event_type VARCHAR(64) NULL;

UPDATE audit_agents SET event_type = (SELECT l.event_type FROM audit_log l
  WHERE l.tenant_id = audit_agents.tenant_id AND l.seq = audit_agents.seq);

CREATE INDEX audit_agents_type ON audit_agents (tenant_id, agent_id, event_type, seq);
