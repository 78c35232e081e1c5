-- Rows that grant authority are authenticated with the master key (issue 13, "trust roots outside the database"):
-- row_mac = "v1." + base64url(HMAC-SHA256(K_table, canonical encoding of the row's authority-bearing columns)),
-- K_table = HKDF-SHA256(master key, info "deputy/row-mac/v1/<table>"). A row whose MAC is missing or wrong is
-- never used (keys.IntegrityAlarm reports it). See docs/audit.md, "Threat model: a database attacker".
ALTER TABLE signing_keys ADD COLUMN row_mac VARCHAR(64) NULL;
ALTER TABLE agent_credentials ADD COLUMN row_mac VARCHAR(64) NULL;
ALTER TABLE agents ADD COLUMN row_mac VARCHAR(64) NULL;
ALTER TABLE roles ADD COLUMN row_mac VARCHAR(64) NULL;
ALTER TABLE agent_cas ADD COLUMN row_mac VARCHAR(64) NULL;
ALTER TABLE admin_credentials ADD COLUMN row_mac VARCHAR(64) NULL;
ALTER TABLE clients ADD COLUMN row_mac VARCHAR(64) NULL;
ALTER TABLE client_registrations ADD COLUMN row_mac VARCHAR(64) NULL;
ALTER TABLE connectors ADD COLUMN row_mac VARCHAR(64) NULL;
ALTER TABLE refresh_tokens ADD COLUMN row_mac VARCHAR(64) NULL;
ALTER TABLE users ADD COLUMN row_mac VARCHAR(64) NULL;
ALTER TABLE consents ADD COLUMN row_mac VARCHAR(64) NULL;
ALTER TABLE resources ADD COLUMN row_mac VARCHAR(64) NULL;

-- Sealed markers of the integrity scheme itself. 'adoption' records that the rows present when this version first
-- started were adopted (MACed) once; afterwards an unsealed row is refused. marker_value is JSON written through jOOQ;
-- row_mac authenticates name|marker_value|created_at.
CREATE TABLE integrity_markers (
  name VARCHAR(64) NOT NULL PRIMARY KEY,
  marker_value TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  row_mac VARCHAR(64) NOT NULL
);
