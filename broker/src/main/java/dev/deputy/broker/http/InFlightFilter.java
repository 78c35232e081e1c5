package dev.deputy.broker.http;

import dev.deputy.broker.health.Drain;
import io.micronaut.core.order.Ordered;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.MutableHttpResponse;
import io.micronaut.http.annotation.RequestFilter;
import io.micronaut.http.annotation.ResponseFilter;
import io.micronaut.http.annotation.ServerFilter;

/**
 * Counts the requests being served, for the drain at shutdown; while draining, answers carry
 * {@code Connection: close} so that keep-alive clients reconnect to another node (RFC 9112 §9.6).
 */
@ServerFilter(ServerFilter.MATCH_ALL_PATTERN)
public class InFlightFilter implements Ordered {
    private static final String ATTR = "deputy.in-flight";
    private final Drain drain;

    public InFlightFilter(Drain drain) {
        this.drain = drain;
    }

    @Override
    public int getOrder() {
        return HIGHEST_PRECEDENCE;
    }

    @RequestFilter
    public void started(HttpRequest<?> request) {
        request.setAttribute(ATTR, Boolean.TRUE);
        drain.requestStarted();
    }

    @ResponseFilter
    public void ended(HttpRequest<?> request, MutableHttpResponse<?> response) {
        if (request.getAttribute(ATTR).isPresent()) {
            request.removeAttribute(ATTR, Boolean.class);
            drain.requestEnded();
        }
        if (drain.draining()) {
            response.header("Connection", "close");
        }
    }
}
