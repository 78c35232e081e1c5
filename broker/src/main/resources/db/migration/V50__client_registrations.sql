-- Dynamic client registration (RFC 7591 / RFC 7592). The client itself is a row of `clients`
-- (managed_by = dcr); this table holds what only registration needs: the accepted metadata as the
-- client registered it (JSON, written through jOOQ), the SHA-256 of the registration access token,
-- when it was issued and when the client was first used (unused registrations expire by tenant policy).
CREATE TABLE client_registrations (
  tenant_id VARCHAR(64) NOT NULL,
  client_id VARCHAR(255) NOT NULL,
  metadata TEXT NOT NULL,
  access_token_hash CHAR(64) NOT NULL,
  issued_at BIGINT NOT NULL,
  used_at BIGINT NULL,
  PRIMARY KEY (tenant_id, client_id)
);
CREATE INDEX client_registrations_issued ON client_registrations (tenant_id, issued_at);
