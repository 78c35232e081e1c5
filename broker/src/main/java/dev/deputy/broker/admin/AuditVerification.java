package dev.deputy.broker.admin;

import dev.deputy.broker.audit.AuditReports;
import dev.deputy.broker.audit.AuditStore;
import dev.deputy.broker.audit.AuditVerifier;
import dev.deputy.broker.audit.AuditWitness;
import jakarta.inject.Singleton;

import java.util.Map;

/**
 * The verification the admin API answers at {@code GET …/audit/verify} and the console's audit page shows: the chain
 * and its signed checkpoints over a seq range ({@link AuditVerifier}), the unsigned tail, and the comparison with the
 * witnessed head (a chain behind or beside it is not ok, whatever its links say).
 */
@Singleton
public class AuditVerification {
    private final AuditStore store;
    private final AuditVerifier verifier;
    private final AuditWitness witness;

    AuditVerification(AuditStore store, AuditVerifier verifier, AuditWitness witness) {
        this.store = store;
        this.verifier = verifier;
        this.witness = witness;
    }

    /** The report as the API serves it ({@code Verification} in the OpenAPI document). */
    public Map<String, Object> verify(String tenant, long fromSeq, long toSeq) {
        long t0 = System.nanoTime();
        AuditVerifier.Report r = verifier.verifyRange(tenant, fromSeq, toSeq);
        Map<String, Object> body = AuditReports.report(r);
        // the entries after the last signed checkpoint: hash-linked but not signed, nor witnessed, yet
        body.put("unsigned_tail", verifier.unsignedTail(tenant).map(AuditReports::tail).orElse(null));
        AuditWitness.Comparison wc = witness.compare(tenant, store);
        body.put("witness", AuditReports.witness(wc, witness.file(tenant).map(Object::toString).orElse(null)));
        if (wc.refused() && r.ok()) {
            body.put("ok", false);
            body.put("first_bad_seq", Math.min(wc.witnessedSeq(), wc.dbHeadSeq() + 1));
            body.put("problem", wc.kind());
            body.put("message", wc.message());
        }
        body.put("elapsed_ms", (System.nanoTime() - t0) / 1_000_000);
        return body;
    }
}
