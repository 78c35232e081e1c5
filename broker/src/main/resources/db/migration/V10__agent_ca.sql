-- The per-tenant agent CA (issues agent client certificates, RFC 8705 tls_client_auth). The private key is
-- sealed with the master key (keys.SecretBox, AAD "agent-ca:<tenant>").
CREATE TABLE agent_cas (
  tenant_id VARCHAR(64) NOT NULL,
  certificate TEXT NOT NULL,
  private_key_sealed TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (tenant_id)
);
