package dev.deputy.broker.audit;

/**
 * Where a request came from, for the audit trail: the correlation id (from {@code traceparent} or
 * {@code X-Request-Id}, else created), this request's own id, and the source address: the client's address as the
 * trusted proxies in front of the broker report it ({@code DEPUTY_TRUSTED_PROXIES}, docs/deployment.md), else the
 * connection's peer. {@code peerIp} is always the connection's peer (what {@code mtls.trusted_proxies} is checked
 * against).
 */
public record RequestMeta(String correlationId, String requestId, String sourceIp, String peerIp) {
    public static final RequestMeta INTERNAL = new RequestMeta(null, null, null, null);

    /** A request straight from its client (no proxy): source and peer are one address. */
    public RequestMeta(String correlationId, String requestId, String sourceIp) {
        this(correlationId, requestId, sourceIp, sourceIp);
    }
}
