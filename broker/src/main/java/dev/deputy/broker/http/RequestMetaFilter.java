package dev.deputy.broker.http;

import dev.deputy.broker.audit.RequestIds;
import dev.deputy.broker.audit.RequestMeta;
import dev.deputy.broker.health.Drain;
import io.micronaut.core.order.Ordered;
import io.micronaut.core.propagation.MutablePropagatedContext;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.MutableHttpResponse;
import io.micronaut.http.annotation.RequestFilter;
import io.micronaut.http.annotation.ResponseFilter;
import io.micronaut.http.annotation.ServerFilter;

import java.net.InetSocketAddress;
import java.util.regex.Pattern;

/**
 * The request's bookkeeping, first of all filters and in one filter (each filter is a request and a response step of
 * Micronaut's filter chain on every request; three did this work before):
 * <ul>
 *   <li>counts the requests being served, for the drain at shutdown ({@link Drain}); while draining, answers carry
 *       {@code Connection: close} so that keep-alive clients reconnect to another node (RFC 9112 §9.6);</li>
 *   <li>gives each request its audit metadata: a correlation id (the trace id of an incoming W3C {@code traceparent},
 *       else a well-formed {@code X-Request-Id}, else a new one), its own request id and the source address (the
 *       client behind a trusted proxy, {@link TrustedProxies}; else the peer); both ids are echoed in the response;</li>
 *   <li>puts the tenant and both ids into the logging context ({@link LogContextFilter#enter}).</li>
 * </ul>
 */
@ServerFilter(ServerFilter.MATCH_ALL_PATTERN)
public class RequestMetaFilter implements Ordered {
    private static final String ATTR = "deputy.request-meta";
    private static final String IN_FLIGHT = "deputy.in-flight";
    private static final Pattern TRACEPARENT = Pattern.compile("^[0-9a-f]{2}-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$");
    private static final String ZERO_TRACE = "0".repeat(32);
    private static final String ZERO_SPAN = "0".repeat(16);
    private static final Pattern SAFE_ID = Pattern.compile("^[A-Za-z0-9._:-]{1,128}$");

    private final TrustedProxies proxies;
    private final Drain drain;

    public RequestMetaFilter(TrustedProxies proxies, Drain drain) {
        this.proxies = proxies;
        this.drain = drain;
    }

    @Override
    public int getOrder() {
        return HIGHEST_PRECEDENCE;
    }

    @RequestFilter
    public void assign(HttpRequest<?> request, MutablePropagatedContext context) {
        request.setAttribute(IN_FLIGHT, Boolean.TRUE);
        drain.requestStarted();
        RequestMeta meta = meta(request, proxies);
        request.setAttribute(ATTR, meta);
        LogContextFilter.enter(request, meta, context);
    }

    @ResponseFilter
    public void echo(HttpRequest<?> request, MutableHttpResponse<?> response) {
        if (request.getAttribute(IN_FLIGHT).isPresent()) {
            request.removeAttribute(IN_FLIGHT, Boolean.class);
            drain.requestEnded();
        }
        if (drain.draining()) {
            response.header("Connection", "close");
        }
        RequestMeta m = of(request);
        response.header("X-Request-Id", m.requestId());
        response.header("X-Correlation-Id", m.correlationId());
    }

    public static RequestMeta of(HttpRequest<?> request) {
        return request.getAttribute(ATTR, RequestMeta.class).orElseGet(() -> {
            // not through the filter (an error raised before it): the peer, no forwarding header believed
            RequestMeta m = meta(request, null);
            request.setAttribute(ATTR, m);
            return m;
        });
    }

    private static RequestMeta meta(HttpRequest<?> request, TrustedProxies proxies) {
        String correlation = null;
        String tp = request.getHeaders().get("traceparent");
        if (tp != null) {
            var m = TRACEPARENT.matcher(tp.trim());
            // W3C Trace Context §3.2.2: version ff, an all-zero trace id or parent id make the header invalid; the
            // tracer ignores such a header too, so it never names the correlation id (which is the trace id)
            if (m.matches() && !tp.trim().startsWith("ff") && !ZERO_TRACE.equals(m.group(1))
                    && !m.group(2).equals(ZERO_SPAN)) {
                correlation = m.group(1);
            }
        }
        if (correlation == null) {
            String xr = request.getHeaders().get("X-Request-Id");
            if (xr != null && SAFE_ID.matcher(xr.trim()).matches()) {
                correlation = xr.trim();
            }
        }
        String requestId = RequestIds.next();
        if (correlation == null) {
            correlation = requestId;
        }
        InetSocketAddress remote = request.getRemoteAddress();
        java.net.InetAddress peer = remote == null ? null : remote.getAddress();
        String peerIp = peer == null ? null : peer.getHostAddress();
        // DEPUTY_TRUSTED_PROXIES: the client behind a trusted load balancer; the peer otherwise
        java.net.InetAddress client = proxies == null || peer == null ? peer : proxies.client(peer, request.getHeaders());
        String ip = client == null ? null : client.getHostAddress();
        return new RequestMeta(correlation, requestId, ip, peerIp);
    }
}
