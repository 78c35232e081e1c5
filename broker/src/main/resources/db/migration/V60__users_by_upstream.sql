-- Token exchange looks a user up by the upstream identity a token carries (iss, sub), whatever the connector.
CREATE INDEX users_upstream ON users (tenant_id, upstream_sub, upstream_iss);
