package dev.deputy.broker.http;

import dev.deputy.broker.support.FilterPaths;
import io.micronaut.http.filter.FilterPatternStyle;
import io.micronaut.core.order.Ordered;
import io.micronaut.http.HttpHeaders;
import io.micronaut.http.MutableHttpRequest;
import io.micronaut.http.annotation.RequestFilter;
import io.micronaut.http.annotation.ServerFilter;
import io.micronaut.http.filter.ServerFilterPhase;
import io.micronaut.http.server.annotation.PreMatching;

/**
 * CORS (Fetch standard) for the protocol endpoints only. Browser-based MCP clients call discovery, JWKS, token and
 * registration cross-origin, so those keep Micronaut's CORS answers; the admin API and console ({@code /admin/**})
 * are never called cross-origin by design. This filter runs before Micronaut's CORS filter and drops the
 * {@code Origin} header of requests under {@code /admin}: the CORS filter then adds nothing, no origin is
 * reflected, and a preflight is not answered as one (the browser refuses the cross-origin call). Without it the
 * one permissive configuration reflected any {@code Origin} on {@code /admin/**} too.
 */
@ServerFilter(patterns = FilterPaths.ADMIN, patternStyle = FilterPatternStyle.REGEX)
public class AdminCors implements Ordered {
    @RequestFilter
    @PreMatching // Micronaut's CORS filter answers preflights before routing: so must this
    public void noCrossOrigin(MutableHttpRequest<?> request) {
        if (request.getHeaders().contains(HttpHeaders.ORIGIN)) {
            request.getHeaders().remove(HttpHeaders.ORIGIN);
        }
    }

    @Override
    public int getOrder() {
        // before io.micronaut.http.server.cors.CorsFilter (ServerFilterPhase.METRICS.after())
        return ServerFilterPhase.FIRST.before();
    }
}
