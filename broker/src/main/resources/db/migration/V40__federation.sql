-- Federated human login (issue "Federated human login"): OAuth clients, upstream connectors managed through
-- the admin API, users linked just in time, consents, refresh token families.

-- OAuth clients (MCP client apps). Pre-registered from config/tenants/<t>/clients/*.yml (managed_by=config);
-- later DCR adds rows (managed_by=dcr). redirect_uris is a JSON array written through jOOQ. Secrets are
-- stored as PBKDF2 hashes only.
CREATE TABLE clients (
  tenant_id VARCHAR(64) NOT NULL,
  client_id VARCHAR(255) NOT NULL,
  name VARCHAR(255) NOT NULL,
  redirect_uris TEXT NOT NULL,
  internal BOOLEAN NOT NULL,
  auth_method VARCHAR(32) NOT NULL,
  secret_hash VARCHAR(255) NULL,
  managed_by VARCHAR(16) NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, client_id)
);

-- Connectors added through the admin API (file connectors live in config/tenants/<t>/connectors/*.yml).
-- config is the JSON connector map without any secret; client_secret is sealed with the master key
-- (SecretBox, associated data = tenant + id).
CREATE TABLE connectors (
  tenant_id VARCHAR(64) NOT NULL,
  id VARCHAR(64) NOT NULL,
  config TEXT NOT NULL,
  client_secret TEXT NULL,
  enabled BOOLEAN NOT NULL,
  is_default BOOLEAN NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, id)
);

-- Humans, linked by (connector, upstream iss, upstream sub) byte for byte.
CREATE TABLE users (
  id VARCHAR(40) NOT NULL,
  tenant_id VARCHAR(64) NOT NULL,
  connector_id VARCHAR(64) NOT NULL,
  upstream_iss VARCHAR(255) NOT NULL,
  upstream_sub VARCHAR(255) NOT NULL,
  email VARCHAR(320) NULL,
  name VARCHAR(255) NULL,
  groups_json TEXT NOT NULL,
  roles_json TEXT NOT NULL,
  status VARCHAR(16) NOT NULL,
  created_at BIGINT NOT NULL,
  last_login_at BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX users_link ON users (tenant_id, connector_id, upstream_iss, upstream_sub);

-- Consent decisions of external clients, per (tenant, user, client, resource), with the granted scopes.
CREATE TABLE consents (
  tenant_id VARCHAR(64) NOT NULL,
  user_id VARCHAR(40) NOT NULL,
  client_id VARCHAR(255) NOT NULL,
  resource_id VARCHAR(128) NOT NULL,
  scopes TEXT NOT NULL,
  granted_at BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, user_id, client_id, resource_id)
);

-- Refresh tokens: opaque, stored as SHA-256, rotated on every use. A family is every token descended from
-- one authorization code; reuse of a used token revokes the family and the access tokens it issued.
CREATE TABLE refresh_tokens (
  token_hash CHAR(64) NOT NULL,
  tenant_id VARCHAR(64) NOT NULL,
  family_id VARCHAR(40) NOT NULL,
  client_id VARCHAR(255) NOT NULL,
  user_id VARCHAR(40) NOT NULL,
  resource VARCHAR(512) NOT NULL,
  scopes TEXT NOT NULL,
  access_jti VARCHAR(64) NULL,
  access_expires_at BIGINT NULL,
  status VARCHAR(16) NOT NULL,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  used_at BIGINT NULL,
  PRIMARY KEY (token_hash)
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (tenant_id, family_id);
