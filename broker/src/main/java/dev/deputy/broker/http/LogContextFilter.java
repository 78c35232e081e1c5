package dev.deputy.broker.http;

import dev.deputy.broker.audit.RequestMeta;
import dev.deputy.broker.logging.LogContext;
import io.micronaut.core.propagation.MutablePropagatedContext;
import io.micronaut.http.HttpRequest;

/**
 * Puts the request's tenant, request id and correlation id into the logging context: one {@link LogContext} in the
 * request's propagated context, which puts them into the MDC of whichever thread runs the request (the handler's
 * virtual thread included); client authentication adds the client and agent through {@link LogContext#client}.
 * Run by {@link RequestMetaFilter}'s request step (not a filter of its own: one filter step less per request).
 * The access log line is {@link AccessLogFilter}'s, a filter that exists only when the access log is on
 * ({@code DEPUTY_ACCESS_LOG=true}): with it off, no request runs a response filter for it.
 */
public final class LogContextFilter {
    static final String ACCESS_LOGGER = AccessLogFilter.ACCESS_LOGGER;
    static final String ATTR = "deputy.log-context";
    /** A tenant id as config/ allows it: 1-64 of {@code A-Za-z0-9._-}; anything else is not logged as a tenant. */
    private static final int MAX_TENANT = 64;
    private static final int MAX_PATH = 256;

    private LogContextFilter() {
    }

    static void enter(HttpRequest<?> request, RequestMeta meta, MutablePropagatedContext context) {
        LogContext holder = new LogContext(tenant(request.getPath()), meta.requestId(), meta.correlationId());
        request.setAttribute(ATTR, holder);
        context.add(holder);
    }

    /** The tenant a path names ({@code /t/<tenant>} or {@code /t/<tenant>/...}) when it is a tenant id config/ allows. */
    static String tenant(String path) {
        int at = path.indexOf("/t/");
        while (at >= 0) {
            int from = at + 3;
            int end = from;
            while (end < path.length() && end - from <= MAX_TENANT && tenantChar(path.charAt(end))) {
                end++;
            }
            if (end > from && end - from <= MAX_TENANT && (end == path.length() || path.charAt(end) == '/')) {
                return path.substring(from, end);
            }
            at = path.indexOf("/t/", at + 1);
        }
        return null;
    }

    private static boolean tenantChar(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_'
                || c == '-';
    }

    /** The path as a log line may hold it: no control characters (no forged lines in text logs), bounded. */
    static String printable(String path) {
        StringBuilder b = new StringBuilder(Math.min(path.length(), MAX_PATH));
        for (int i = 0; i < path.length() && b.length() < MAX_PATH; i++) {
            char c = path.charAt(i);
            b.append(c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) ? '?' : c);
        }
        return path.length() > MAX_PATH ? b.append("...").toString() : b.toString();
    }
}
