package dev.deputy.broker.http;

import dev.deputy.broker.health.Drain;
import dev.deputy.broker.logging.LogContext;
import io.micronaut.core.propagation.MutablePropagatedContext;
import io.micronaut.core.propagation.PropagatedContext;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.MutableHttpRequest;
import io.micronaut.http.MutableHttpResponse;
import org.junit.jupiter.api.Test;
import org.slf4j.MDC;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;

/**
 * The one bookkeeping filter of every request: the request is counted while it is served, and the ids its log lines
 * carry are the ones its audit entries carry and its response echoes (one request id per request: with the log context
 * in a filter of its own, that filter could run first and make a second request id for the log lines).
 */
class RequestMetaFilterTest {

    @Test
    void logLinesAuditAndResponseShareOneRequestIdAndTheRequestIsCountedWhileServed() {
        Drain drain = new Drain();
        RequestMetaFilter filter = new RequestMetaFilter(new TrustedProxies(""), drain);
        MutableHttpRequest<?> request = HttpRequest.POST("/t/demo/access/v1/evaluation", "{}");
        MutablePropagatedContext context = MutablePropagatedContext.of(PropagatedContext.empty());

        filter.assign(request, context);
        assertEquals(1, drain.inFlight(), "counted while served");
        var meta = RequestMetaFilter.of(request);
        LogContext holder = context.getContext().find(LogContext.class).orElseThrow();
        String[] before = holder.updateThreadContext();
        try {
            assertEquals(meta.requestId(), MDC.get(LogContext.REQUEST_ID));
            assertEquals(meta.correlationId(), MDC.get(LogContext.CORRELATION_ID));
            assertEquals("demo", MDC.get(LogContext.TENANT));
        } finally {
            holder.restoreThreadContext(before);
        }
        assertSame(meta, RequestMetaFilter.of(request), "made once");

        MutableHttpResponse<?> response = HttpResponse.ok();
        filter.echo(request, response);
        assertEquals(meta.requestId(), response.getHeaders().get("X-Request-Id"));
        assertEquals(meta.correlationId(), response.getHeaders().get("X-Correlation-Id"));
        assertEquals(0, drain.inFlight(), "no longer counted once answered");
        assertFalse(response.getHeaders().contains("Connection"), "kept alive while not draining");
    }

    @Test
    void whileDrainingAnswersCloseTheConnectionAndAreCountedOnce() {
        Drain drain = new Drain();
        RequestMetaFilter filter = new RequestMetaFilter(new TrustedProxies(""), drain);
        MutableHttpRequest<?> request = HttpRequest.GET("/health/ready").header("X-Request-Id", "caller-7.a");
        filter.assign(request, MutablePropagatedContext.of(PropagatedContext.empty()));
        drain.begin();
        MutableHttpResponse<?> response = HttpResponse.ok();
        filter.echo(request, response);
        filter.echo(request, HttpResponse.ok()); // a response step run twice does not count the request out twice
        assertEquals(0, drain.inFlight());
        assertEquals("close", response.getHeaders().get("Connection"), "RFC 9112 §9.6: keep-alive clients move on");
        assertEquals("caller-7.a", response.getHeaders().get("X-Correlation-Id"), "a well-formed X-Request-Id");
        assertNotNull(response.getHeaders().get("X-Request-Id"));
    }
}
