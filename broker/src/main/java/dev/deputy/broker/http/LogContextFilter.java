package dev.deputy.broker.http;

import dev.deputy.broker.audit.RequestMeta;
import dev.deputy.broker.logging.LogContext;
import io.micronaut.context.annotation.Value;
import io.micronaut.context.propagation.slf4j.MdcPropagationContext;
import io.micronaut.core.propagation.MutablePropagatedContext;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.MutableHttpResponse;
import io.micronaut.http.annotation.RequestFilter;
import io.micronaut.http.annotation.ResponseFilter;
import io.micronaut.http.annotation.ServerFilter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * Puts the request's tenant, request id and correlation id into the logging context (MDC, carried onto the
 * handler's virtual thread by Micronaut's context propagation; client authentication adds the client and agent
 * through {@link LogContext#client}), and writes one access log line per request to the logger
 * {@code deputy.access} (off with {@code DEPUTY_ACCESS_LOG=false}): method, path without its query (which may hold
 * an authorization code or a state), status, duration, source address and the ids. Successful probes of
 * {@code /health} are not logged.
 */
@ServerFilter(ServerFilter.MATCH_ALL_PATTERN)
public class LogContextFilter {
    static final String ACCESS_LOGGER = "deputy.access";
    private static final Logger ACCESS = LoggerFactory.getLogger(ACCESS_LOGGER);
    private static final String ATTR = "deputy.log-context";
    private static final String START = "deputy.log-start";
    /** A tenant id as config/ allows it; anything else in the path is not copied into logs as a tenant. */
    private static final Pattern TENANT = Pattern.compile("/t/([A-Za-z0-9._-]{1,64})(?:/|$)");
    private static final int MAX_PATH = 256;

    private final boolean accessLog;

    public LogContextFilter(@Value("${deputy.log.access:true}") boolean accessLog) {
        this.accessLog = accessLog;
    }

    @RequestFilter
    public void enter(HttpRequest<?> request, MutablePropagatedContext context) {
        request.setAttribute(START, System.nanoTime());
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

    @ResponseFilter
    public void leave(HttpRequest<?> request, MutableHttpResponse<?> response) {
        if (!accessLog) {
            return;
        }
        int status = response.code();
        String path = request.getPath();
        if (status < 400 && path.startsWith("/health")) {
            return;
        }
        long start = request.getAttribute(START, Long.class).orElse(System.nanoTime());
        RequestMeta meta = RequestMetaFilter.of(request);
        LogContext holder = request.getAttribute(ATTR, LogContext.class).orElse(null);
        String tenant = tenant(path);
        ACCESS.info("{} {} {} {} {} {} {} {} {} {}",
                kv("method", request.getMethodName()), kv("path", printable(path)), kv("status", status),
                kv("duration_ms", (System.nanoTime() - start) / 1_000_000), kv("source_ip", meta.sourceIp()),
                kv(LogContext.TENANT, tenant), kv(LogContext.CLIENT_ID, holder == null ? null : holder.clientId()),
                kv(LogContext.AGENT_ID, holder == null ? null : holder.agentId()),
                kv(LogContext.REQUEST_ID, meta.requestId()), kv(LogContext.CORRELATION_ID, meta.correlationId()));
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
