-- Issue 14 finding 4. client_registrations.used_at is now the last time a token was issued to the client (it was the
-- first /authorize lookup, which anyone could trigger): registrations expire by last use, and ones never used expire
-- sooner. source_address is where the registration came from, for the per-source cap of never-used registrations.
ALTER TABLE client_registrations ADD COLUMN source_address VARCHAR(64) NULL;
CREATE INDEX client_registrations_used ON client_registrations (tenant_id, used_at);
CREATE INDEX client_registrations_source ON client_registrations (tenant_id, source_address, used_at);
