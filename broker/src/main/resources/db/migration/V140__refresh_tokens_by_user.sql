-- The account page lists a user's live refresh-token families and a consent revocation finds the families of one
-- (user, client, resource): both look refresh tokens up by user.
CREATE INDEX refresh_tokens_user ON refresh_tokens (tenant_id, user_id, status);
