package dev.deputy.broker.http;

import dev.deputy.broker.audit.RequestMeta;
import dev.deputy.broker.logging.LogContext;
import io.micronaut.context.annotation.Requires;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.MutableHttpResponse;
import io.micronaut.http.annotation.RequestFilter;
import io.micronaut.http.annotation.ResponseFilter;
import io.micronaut.http.annotation.ServerFilter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * One access log line per request to the logger {@code deputy.access}, when the access log is on
 * ({@code DEPUTY_ACCESS_LOG=true}; without it this filter does not exist): method, path without its query (which may
 * hold an authorization code or a state), status, duration, source address, tenant, client, agent and the ids (the
 * client and agent as {@link LogContextFilter}'s holder learnt them). Successful probes of {@code /health} are not
 * logged.
 */
@Requires(property = "deputy.log.access", value = "true")
@ServerFilter(ServerFilter.MATCH_ALL_PATTERN)
public class AccessLogFilter {
    static final String ACCESS_LOGGER = "deputy.access";
    private static final Logger ACCESS = LoggerFactory.getLogger(ACCESS_LOGGER);
    private static final String START = "deputy.log-start";

    @RequestFilter
    public void start(HttpRequest<?> request) {
        request.setAttribute(START, System.nanoTime());
    }

    @ResponseFilter
    public void leave(HttpRequest<?> request, MutableHttpResponse<?> response) {
        int status = response.code();
        String path = request.getPath();
        if (status < 400 && path.startsWith("/health")) {
            return;
        }
        long start = request.getAttribute(START, Long.class).orElse(System.nanoTime());
        RequestMeta meta = RequestMetaFilter.of(request);
        LogContext holder = request.getAttribute(LogContextFilter.ATTR, LogContext.class).orElse(null);
        String tenant = LogContextFilter.tenant(path);
        ACCESS.info("{} {} {} {} {} {} {} {} {} {}",
                kv("method", request.getMethodName()), kv("path", LogContextFilter.printable(path)), kv("status", status),
                kv("duration_ms", (System.nanoTime() - start) / 1_000_000), kv("source_ip", meta.sourceIp()),
                kv(LogContext.TENANT, tenant), kv(LogContext.CLIENT_ID, holder == null ? null : holder.clientId()),
                kv(LogContext.AGENT_ID, holder == null ? null : holder.agentId()),
                kv(LogContext.REQUEST_ID, meta.requestId()), kv(LogContext.CORRELATION_ID, meta.correlationId()));
    }
}
