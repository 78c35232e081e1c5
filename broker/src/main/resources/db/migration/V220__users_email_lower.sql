-- Users found by e-mail without reading the tenant's every user (issue 17): the admin API's lookup
-- (GET /admin/t/{t}/users?email=, deputy user find --email) and CIBA's login_hint compare the address
-- case-insensitively. email_lower holds it lower-cased (written with every insert and login by
-- JooqFederationStores.Users; existing rows lower-cased here), one index range per lookup. It is not part of the
-- row's MAC: a match is compared again with the sealed email column before it is answered.
ALTER TABLE users ADD COLUMN email_lower VARCHAR(320) NULL;

UPDATE users SET email_lower = LOWER(email);

CREATE INDEX users_email_lower ON users (tenant_id, email_lower);
