-- The tenant files that plan/apply manages beyond agents, roles and resources (issue 17): tenant.yml,
-- registration.yml, connectors/, clients/, policies/, trust/ as last applied through the admin API. Every node
-- serves them (config.LiveConfig materializes them and reloads on the config-changes event). Row-sealed: trust/
-- names the issuers whose assertions the tenant accepts.
CREATE TABLE config_documents (
  tenant_id VARCHAR(64) NOT NULL,
  path VARCHAR(200) NOT NULL,
  content TEXT NOT NULL,
  updated_at BIGINT NOT NULL,
  row_mac VARCHAR(64) NOT NULL,
  PRIMARY KEY (tenant_id, path)
);
