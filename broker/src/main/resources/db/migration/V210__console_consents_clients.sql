-- The console's consent and client lists page and filter in SQL (issue 15 follow-ups): consents newest first in
-- keyset pages (JooqFederationStores.Consents.page: granted_at, then the key, descending) read one index range per
-- page; the metadata-document clients a tenant has seen are the distinct URL client ids of its consents, read in
-- client-id order from the second index. Consents are written once per user decision: these cost nothing on the
-- token path.
CREATE INDEX consents_granted ON consents (tenant_id, granted_at, user_id, client_id, resource_id);
CREATE INDEX consents_client ON consents (tenant_id, client_id);
