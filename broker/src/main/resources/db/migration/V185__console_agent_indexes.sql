-- The console's agent list at ten thousand agents per tenant (issue 15, scripts/bench console): its filters are SQL
-- (JooqAgentStore.findAgents), and a filter by status, owner or environment is one index range in id order — the
-- page (LIMIT 50) and the count read index entries, not the tenant's whole registry. Agents are written rarely
-- (provisioning, lifecycle; last_seen_at is not indexed): these cost nothing on the token path.
CREATE INDEX agents_status ON agents (tenant_id, status, id);
CREATE INDEX agents_owner ON agents (tenant_id, owner, id);
CREATE INDEX agents_environment ON agents (tenant_id, environment, id);
