package dev.deputy.broker.audit;

/**
 * Seals an {@link AuditEvent} into an {@link AuditEntry} at a position of the chain. The entry form and its hash
 * input live in the audit-verify module (shared with the CLI's offline verifier); the event, its schema and the
 * secret guard are the server's.
 */
public final class AuditSeal {
    private AuditSeal() {
    }

    /** Seals an event at a position of the chain, in the current canonical form. */
    public static AuditEntry seal(AuditEvent e, long seq, long atMs, String prevHash) {
        return seal(e, seq, atMs, prevHash, AuditEntry.CANON_CURRENT);
    }

    /** Seals in a given canonical form (v1 only for tests and tools that reproduce pre-V90 chains). */
    public static AuditEntry seal(AuditEvent e, long seq, long atMs, String prevHash, int canon) {
        String actor = e.actorChain().isEmpty() ? null : String.join(" > ", e.actorChain());
        String details = null;
        if (!e.details().isEmpty()) {
            // v2: stored exactly as hashed, RFC 8785 form (UTF-8, no backslash-u escapes); written directly when the
            // details are of the plain kinds AuditSchema leaves, else through the canonicalizer library
            details = canon == AuditEntry.CANON_V2 ? AuditEntry.jcsDirect(e.details()) : null;
            if (details == null) {
                details = AuditEntry.canonicalJson(e.details());
                if (canon == AuditEntry.CANON_V2) {
                    details = AuditEntry.jcs(details);
                }
            }
        }
        AuditEntry unsealed = new AuditEntry(e.tenantId(), seq, atMs, e.type(), e.outcome().name().toLowerCase(),
                e.subject(), e.subjectIss(), actor, e.agentId(), e.clientId(), e.resource(), e.scopes(),
                e.correlationId(), e.requestId(), e.sourceIp(), details, prevHash, null, canon);
        // v2: the details were just put in RFC 8785 form; no need to canonicalize them a second time
        return unsealed.withHash(canon == AuditEntry.CANON_V2 ? unsealed.hashV2(true) : unsealed.computeHash());
    }
}
