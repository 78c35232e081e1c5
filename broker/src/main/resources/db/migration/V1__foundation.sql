-- Foundation schema. Times are epoch milliseconds (BIGINT): identical on MySQL, MariaDB and H2.
CREATE TABLE tenants (
  id VARCHAR(64) NOT NULL PRIMARY KEY,
  display_name VARCHAR(255) NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);

-- Signing keys per tenant. state: next (published, not signing), active (signing), retired (published
-- until publish_until so that tokens it signed still verify), expired (gone from the JWKS).
CREATE TABLE signing_keys (
  tenant_id VARCHAR(64) NOT NULL,
  kid VARCHAR(64) NOT NULL,
  alg VARCHAR(16) NOT NULL,
  state VARCHAR(16) NOT NULL,
  public_jwk TEXT NOT NULL,
  private_enc TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  activated_at BIGINT NULL,
  retired_at BIGINT NULL,
  publish_until BIGINT NULL,
  PRIMARY KEY (tenant_id, kid)
);

-- The audit log: append-only, one hash chain per tenant (hash = SHA-256 over prev_hash and the
-- canonical encoding of the entry).
CREATE TABLE audit_log (
  tenant_id VARCHAR(64) NOT NULL,
  seq BIGINT NOT NULL,
  at_ms BIGINT NOT NULL,
  event_type VARCHAR(64) NOT NULL,
  outcome VARCHAR(16) NOT NULL,
  subject VARCHAR(255) NULL,
  subject_iss VARCHAR(512) NULL,
  actor VARCHAR(512) NULL,
  agent_id VARCHAR(128) NULL,
  client_id VARCHAR(512) NULL,
  resource VARCHAR(512) NULL,
  scopes VARCHAR(1024) NULL,
  correlation_id VARCHAR(128) NULL,
  request_id VARCHAR(128) NULL,
  source_ip VARCHAR(64) NULL,
  details TEXT NULL,
  prev_hash VARCHAR(64) NOT NULL,
  hash VARCHAR(64) NOT NULL,
  PRIMARY KEY (tenant_id, seq)
);
