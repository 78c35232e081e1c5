-- Audit trail: signed checkpoints, archive markers, and the indexes behind the audit query API.

-- A signed statement "entry <seq> of <tenant>'s chain has hash <head_hash>": a compact JWS
-- (typ deputy-audit-checkpoint+jwt) by the tenant's signing key. public_jwk is the public part of the key
-- that signed it, kept because retired keys leave the JWKS after their publish window. After a key rotation
-- the head is re-signed by the new key (hence kid in the key): that checkpoint endorses the retired key.
CREATE TABLE audit_checkpoints (
  tenant_id VARCHAR(64) NOT NULL,
  seq BIGINT NOT NULL,
  head_hash VARCHAR(64) NOT NULL,
  at_ms BIGINT NOT NULL,
  kid VARCHAR(64) NOT NULL,
  public_jwk TEXT NOT NULL,
  jws TEXT NOT NULL,
  PRIMARY KEY (tenant_id, seq, kid)
);

-- A range [from_seq, to_seq] moved out of audit_log into an archive file; to_hash is the hash of entry
-- to_seq, and a checkpoint at to_seq signs it, so the remaining chain verifies from there.
CREATE TABLE audit_archives (
  tenant_id VARCHAR(64) NOT NULL,
  from_seq BIGINT NOT NULL,
  to_seq BIGINT NOT NULL,
  to_hash VARCHAR(64) NOT NULL,
  at_ms BIGINT NOT NULL,
  entries BIGINT NOT NULL,
  file_name VARCHAR(512) NOT NULL,
  file_sha256 VARCHAR(64) NOT NULL,
  PRIMARY KEY (tenant_id, to_seq)
);

-- Every agent named by an entry (agent_id, and each actor of the act chain) → the entry. Derived from
-- audit_log in the same transaction; not part of the hash. Answers "everything agent X did, directly or as
-- an actor anywhere in a delegation chain" from one index range.
CREATE TABLE audit_agents (
  tenant_id VARCHAR(64) NOT NULL,
  agent_id VARCHAR(128) NOT NULL,
  seq BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, agent_id, seq)
);

CREATE INDEX audit_log_subject ON audit_log (tenant_id, subject, seq);
CREATE INDEX audit_log_client ON audit_log (tenant_id, client_id, seq);
CREATE INDEX audit_log_resource ON audit_log (tenant_id, resource, seq);
CREATE INDEX audit_log_type ON audit_log (tenant_id, event_type, seq);
CREATE INDEX audit_log_correlation ON audit_log (tenant_id, correlation_id, seq);
CREATE INDEX audit_log_time ON audit_log (tenant_id, at_ms, seq);
