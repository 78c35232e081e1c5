package dev.deputy.broker.metrics;

import io.micrometer.core.instrument.MeterRegistry;
import io.micronaut.context.annotation.Requires;
import io.micrometer.core.instrument.Timer;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.MutableHttpResponse;
import io.micronaut.http.annotation.RequestFilter;
import io.micronaut.http.annotation.ResponseFilter;
import io.micronaut.http.annotation.ServerFilter;
import io.micronaut.web.router.RouteAttributes;
import io.micronaut.web.router.RouteInfo;
import io.micronaut.web.router.UriRouteInfo;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * Latency per endpoint: {@code http_server_requests_seconds{method,uri,status}}, where {@code uri} is the route
 * template ({@code /t/{tenant}/token}, never the path a caller sent), {@code NOT_FOUND} for a request that matched
 * no route, and {@code status} the response code. Micronaut's own web binder is off (application.yml): it builds the
 * tags and looks the timer up in the registry on every request; here the timers are cached per route and status.
 */
@Requires(bean = MeterRegistry.class)
@ServerFilter(ServerFilter.MATCH_ALL_PATTERN)
public class HttpServerMeters {
    static final String NAME = "http.server.requests";
    private static final String START = "deputy.metrics.start";
    private static final Object UNMATCHED = new Object();

    private final MeterRegistry registry;
    /** Route (or {@link #UNMATCHED}) → timers by status code. */
    private final Map<Object, Route> routes = new ConcurrentHashMap<>();

    public HttpServerMeters(MeterRegistry registry) {
        this.registry = registry;
    }

    private final class Route {
        final String method;
        final String uri;
        final AtomicReferenceArray<Timer> byStatus = new AtomicReferenceArray<>(600);

        Route(String method, String uri) {
            this.method = method;
            this.uri = uri;
        }

        Timer timer(int status) {
            int s = status >= 100 && status < 600 ? status : 0;
            Timer t = byStatus.get(s);
            if (t == null) {
                t = Timer.builder(NAME).description("HTTP server request latency by route template and status")
                        .tag("method", method).tag("uri", uri).tag("status", s == 0 ? "other" : Integer.toString(s))
                        .register(registry);
                byStatus.set(s, t);
            }
            return t;
        }
    }

    @RequestFilter
    public void start(HttpRequest<?> request) {
        request.setAttribute(START, System.nanoTime());
    }

    @ResponseFilter
    public void stop(HttpRequest<?> request, MutableHttpResponse<?> response) {
        Object start = request.getAttribute(START).orElse(null);
        if (!(start instanceof Long t0)) {
            return;
        }
        long nanos = System.nanoTime() - t0;
        RouteInfo<?> info = RouteAttributes.getRouteInfo(request).orElse(null);
        Route route;
        if (info instanceof UriRouteInfo<?, ?> uri) {
            route = routes.computeIfAbsent(info, k -> new Route(uri.getHttpMethodName(),
                    uri.getUriMatchTemplate().toPathString()));
        } else {
            // no route: one series for all of them (the path a caller sent is never a label)
            route = routes.computeIfAbsent(UNMATCHED, k -> new Route("any", "NOT_FOUND"));
        }
        route.timer(response.code()).record(nanos, TimeUnit.NANOSECONDS);
    }
}
