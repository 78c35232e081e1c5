package dev.deputy.broker.audit;

import java.util.List;

/**
 * Filters of the audit query API; null means "any". Results are in chain order (ascending seq), after
 * {@code afterSeq} (keyset pagination), at most {@code limit}.
 *
 * @param agent an agent id matched as the entry's agent or anywhere in its actor chain
 * @param types exact event types, or prefixes ending in '.' (e.g. {@code token.})
 */
public record AuditQuery(String tenantId, Long fromMs, Long toMs, String subject, String agent, String client,
                         String resource, List<String> types, String outcome, String correlationId, String requestId,
                         long afterSeq, int limit) {
    public static final int MAX_LIMIT = 1000;

    public AuditQuery {
        if (tenantId == null) {
            throw new IllegalArgumentException("tenant required");
        }
        types = types == null ? List.of() : List.copyOf(types);
        limit = limit <= 0 ? 100 : Math.min(limit, MAX_LIMIT);
        afterSeq = Math.max(0, afterSeq);
    }

    public static AuditQuery all(String tenantId) {
        return new AuditQuery(tenantId, null, null, null, null, null, null, null, null, null, null, 0, 100);
    }

    public AuditQuery after(long seq) {
        return new AuditQuery(tenantId, fromMs, toMs, subject, agent, client, resource, types, outcome, correlationId,
                requestId, seq, limit);
    }
}
