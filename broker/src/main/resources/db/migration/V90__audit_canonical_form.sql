-- The canonical form each entry's hash was computed over (issue 13): 1 = the first form (a Jackson-written JSON
-- array, details as a string; every entry written before this migration), 2 = RFC 8785 (JCS) over one JSON object
-- with details as an object. docs/audit.md §"The hash input" pins both down.
ALTER TABLE audit_log ADD COLUMN canon SMALLINT NOT NULL DEFAULT 1;
