-- Refresh keeps the actor (RFC 8693 §4.1, RFC 9700 §4.14): the agent named as act.sub when the family was
-- issued (a code flow with requested_actor, or an agent's own client) is bound to every token of the family;
-- each refresh re-mints act from it and is refused when that agent is no longer active.
ALTER TABLE refresh_tokens ADD COLUMN actor VARCHAR(255) NULL;
