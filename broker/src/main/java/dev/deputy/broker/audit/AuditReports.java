package dev.deputy.broker.audit;

import java.util.LinkedHashMap;
import java.util.Map;

/** The JSON form of the server-side verification reports (the admin API's audit answers). */
public final class AuditReports {
    private AuditReports() {
    }

    public static Map<String, Object> tail(AuditVerifier.Tail t) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("from_seq", t.fromSeq());
        m.put("to_seq", t.toSeq());
        m.put("entries", t.entries());
        m.put("oldest_age_ms", t.oldestAgeMs());
        return m;
    }

    public static Map<String, Object> witness(AuditWitness.Comparison c, String file) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("kind", c.kind());
        m.put("witnessed_seq", c.witnessedSeq());
        m.put("witnessed_hash", c.witnessedHash());
        m.put("db_head_seq", c.dbHeadSeq());
        m.put("message", c.message());
        m.put("file", file);
        return m;
    }

    public static Map<String, Object> report(AuditVerifier.Report r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("ok", r.ok());
        m.put("checked", r.checked());
        m.put("from_seq", r.fromSeq());
        m.put("last_seq", r.lastSeq());
        m.put("anchor", r.anchor());
        m.put("checkpoints_verified", r.checkpointsVerified());
        m.put("latest_checkpoint_seq", r.latestCheckpointSeq());
        // every member present: null while the chain is whole
        m.put("first_bad_seq", r.ok() ? null : r.firstBadSeq());
        m.put("problem", r.ok() ? null : r.problem());
        m.put("message", r.ok() ? null : r.message());
        return m;
    }
}
