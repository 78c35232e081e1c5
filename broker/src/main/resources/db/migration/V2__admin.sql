-- Admin API credentials. The secret is random (256 bits) and stored only as its SHA-256.
CREATE TABLE admin_credentials (
  client_id VARCHAR(64) NOT NULL PRIMARY KEY,
  secret_sha256 VARCHAR(64) NOT NULL,
  created_at BIGINT NOT NULL,
  disabled BOOLEAN NOT NULL
);
