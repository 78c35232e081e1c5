-- When each OAuth client last got a token: any client of the tenant (config, admin API, DCR) and a Client ID
-- Metadata Document's URL client id, which has no row of its own in `clients`. Written by
-- registration.RegistrationUsage at most once an hour per node and client; the console's client pages show it and
-- list the CIMD clients from it.
CREATE TABLE client_activity (
  tenant_id VARCHAR(64) NOT NULL,
  client_id VARCHAR(255) NOT NULL,
  last_token_at BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, client_id)
);
