package dev.deputy.broker.audit;

/**
 * Where a request came from, for the audit trail: the correlation id (from {@code traceparent} or
 * {@code X-Request-Id}, else created), this request's own id, and the source address.
 */
public record RequestMeta(String correlationId, String requestId, String sourceIp) {
    public static final RequestMeta INTERNAL = new RequestMeta(null, null, null);
}
