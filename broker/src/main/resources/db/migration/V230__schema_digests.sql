-- Start-up (issue 16): the digest of the migration set (every script's name and bytes, the Java migrations'
-- versions and checksums) is recorded here after a migration run that left the schema at it. A start whose
-- migration set has a recorded digest skips Flyway's class path scan and validation (Database.migrate); any other
-- start runs Flyway as before. One row per migration set ever applied, so nodes of two versions during a rolling
-- upgrade never overwrite each other's.
CREATE TABLE schema_digests (
  digest      CHAR(64)     NOT NULL PRIMARY KEY,
  recorded_at BIGINT   NOT NULL
);
