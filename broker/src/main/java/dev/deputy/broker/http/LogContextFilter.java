package dev.deputy.broker.http;

import dev.deputy.broker.audit.RequestMeta;
import dev.deputy.broker.logging.LogContext;
import io.micronaut.context.propagation.slf4j.MdcPropagationContext;
import io.micronaut.core.propagation.MutablePropagatedContext;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.annotation.RequestFilter;
import io.micronaut.http.annotation.ServerFilter;

import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Puts the request's tenant, request id and correlation id into the logging context (MDC, carried onto the
 * handler's virtual thread by Micronaut's context propagation; client authentication adds the client and agent
 * through {@link LogContext#client}). The access log line is {@link AccessLogFilter}'s, a filter that exists only
 * when the access log is on ({@code DEPUTY_ACCESS_LOG=true}): with it off, no request runs a response filter for it.
 */
@ServerFilter(ServerFilter.MATCH_ALL_PATTERN)
public class LogContextFilter {
    static final String ACCESS_LOGGER = AccessLogFilter.ACCESS_LOGGER;
    static final String ATTR = "deputy.log-context";
    /** A tenant id as config/ allows it; anything else in the path is not copied into logs as a tenant. */
    private static final Pattern TENANT = Pattern.compile("/t/([A-Za-z0-9._-]{1,64})(?:/|$)");
    private static final int MAX_PATH = 256;

    @RequestFilter
    public void enter(HttpRequest<?> request, MutablePropagatedContext context) {
        RequestMeta meta = RequestMetaFilter.of(request);
        Map<String, String> mdc = new HashMap<>(4);
        mdc.put(LogContext.REQUEST_ID, meta.requestId());
        mdc.put(LogContext.CORRELATION_ID, meta.correlationId());
        String tenant = tenant(request.getPath());
        if (tenant != null) {
            mdc.put(LogContext.TENANT, tenant);
        }
        LogContext holder = new LogContext();
        request.setAttribute(ATTR, holder);
        context.add(new MdcPropagationContext(mdc)).add(holder);
    }

    static String tenant(String path) {
        Matcher m = TENANT.matcher(path);
        return m.find() ? m.group(1) : null;
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
