-- OpenID CIBA (issue 18): a backchannel authentication request names the user by login_hint, the upstream sub
-- (index users_upstream) or the e-mail address.
CREATE INDEX users_email ON users (tenant_id, email);
