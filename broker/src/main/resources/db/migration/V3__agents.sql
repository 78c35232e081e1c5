-- Agents: first-class principals. roles and metadata are JSON text written through jOOQ.
CREATE TABLE agents (
  tenant_id VARCHAR(64) NOT NULL,
  id VARCHAR(128) NOT NULL,
  name VARCHAR(255) NOT NULL,
  owner VARCHAR(255) NULL,
  environment VARCHAR(64) NOT NULL,
  roles TEXT NOT NULL,
  metadata TEXT NOT NULL,
  status VARCHAR(16) NOT NULL,
  auth_method VARCHAR(40) NOT NULL,
  managed_by VARCHAR(16) NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  status_changed_at BIGINT NULL,
  last_seen_at BIGINT NULL,
  PRIMARY KEY (tenant_id, id)
);

-- Credentials of agents: CA-issued or pinned certificates (by SHA-256 thumbprint), inline JWK Sets or
-- jwks_uri. During rotation the old credential keeps working until valid_until.
CREATE TABLE agent_credentials (
  tenant_id VARCHAR(64) NOT NULL,
  id VARCHAR(64) NOT NULL,
  agent_id VARCHAR(128) NOT NULL,
  kind VARCHAR(24) NOT NULL,
  thumbprint VARCHAR(64) NULL,
  serial VARCHAR(64) NULL,
  material TEXT NOT NULL,
  not_before BIGINT NULL,
  not_after BIGINT NULL,
  valid_until BIGINT NULL,
  status VARCHAR(16) NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX agent_credentials_agent ON agent_credentials (tenant_id, agent_id);
CREATE INDEX agent_credentials_thumb ON agent_credentials (tenant_id, thumbprint);

-- Role templates: scopes, optionally limited to environments (JSON arrays).
CREATE TABLE roles (
  tenant_id VARCHAR(64) NOT NULL,
  name VARCHAR(128) NOT NULL,
  description VARCHAR(512) NULL,
  scopes TEXT NOT NULL,
  environments TEXT NOT NULL,
  managed_by VARCHAR(16) NOT NULL,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, name)
);

-- Protected resources (MCP servers) by canonical URI (RFC 8707), with the scopes they accept.
CREATE TABLE resources (
  tenant_id VARCHAR(64) NOT NULL,
  id VARCHAR(128) NOT NULL,
  uri VARCHAR(512) NOT NULL,
  name VARCHAR(255) NOT NULL,
  scopes TEXT NOT NULL,
  is_default BOOLEAN NOT NULL,
  managed_by VARCHAR(16) NOT NULL,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX resources_uri ON resources (tenant_id, uri);
