package dev.deputy.connectors;

import com.nimbusds.jose.util.DefaultResourceRetriever;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;

import java.io.IOException;
import java.net.HttpURLConnection;
import java.net.URL;

/**
 * Traces of the calls to an upstream IdP: a CLIENT span per call ({@code upstream token}, {@code upstream userinfo},
 * {@code upstream discovery}, {@code upstream jwks}) when the broker hands in a tracer, and the W3C
 * {@code traceparent} (and {@code tracestate}) of the current span on every request. With no current span (tracing
 * off) nothing is added and nothing allocated beyond the check.
 */
public final class UpstreamTracing {
    private UpstreamTracing() {
    }

    /** Adds {@code traceparent} / {@code tracestate} of the current span, if there is one. */
    public static void inject(HeaderSink sink) {
        Context current = Context.current();
        if (!Span.fromContext(current).getSpanContext().isValid()) {
            return;
        }
        W3CTraceContextPropagator.getInstance().inject(current, sink, (s, k, v) -> s.set(k, v));
    }

    /** Where headers go. */
    @FunctionalInterface
    public interface HeaderSink {
        void set(String name, String value);
    }

    /** An open upstream span (or nothing, when tracing is off or the call is outside a traced request). */
    static final class Call implements AutoCloseable {
        static final Call NONE = new Call(null, null);
        private final Span span;
        private final Scope scope;

        private Call(Span span, Scope scope) {
            this.span = span;
            this.scope = scope;
        }

        static Call start(Tracer tracer, String what, String connectorId, URL url, String method) {
            if (tracer == null || !Span.current().getSpanContext().isValid()) {
                return NONE;
            }
            Span span = tracer.spanBuilder("upstream " + what).setSpanKind(SpanKind.CLIENT)
                    .setAttribute("deputy.connector", connectorId)
                    .setAttribute("http.request.method", method)
                    .setAttribute("server.address", url.getHost())
                    .setAttribute("url.full", url.getProtocol() + "://" + url.getAuthority() + url.getPath())
                    .startSpan();
            return new Call(span, span.makeCurrent());
        }

        void status(int status) {
            if (span != null) {
                span.setAttribute("http.response.status_code", status);
                if (status >= 500) {
                    span.setStatus(StatusCode.ERROR);
                }
            }
        }

        void failed(Throwable t) {
            if (span != null) {
                span.setStatus(StatusCode.ERROR, t.getClass().getSimpleName());
                span.setAttribute("error.type", t.getClass().getName());
            }
        }

        @Override
        public void close() {
            if (span != null) {
                scope.close();
                span.end();
            }
        }
    }

    /** Nimbus's retriever (discovery, JWKS) with a span per fetch and the traceparent on it. */
    static final class Retriever extends DefaultResourceRetriever {
        private final Tracer tracer;
        private final String connectorId;

        Retriever(int connectTimeout, int readTimeout, int sizeLimit, Tracer tracer, String connectorId) {
            super(connectTimeout, readTimeout, sizeLimit);
            this.tracer = tracer;
            this.connectorId = connectorId;
        }

        @Override
        public com.nimbusds.jose.util.Resource retrieveResource(URL url) throws IOException {
            String what = url.getPath().endsWith("/.well-known/openid-configuration") ? "discovery" : "jwks";
            try (Call call = Call.start(tracer, what, connectorId, url, "GET")) {
                try {
                    return super.retrieveResource(url);
                } catch (IOException | RuntimeException e) {
                    call.failed(e);
                    throw e;
                }
            }
        }

        @Override
        protected HttpURLConnection openHTTPConnection(URL url) throws IOException {
            HttpURLConnection con = super.openHTTPConnection(url);
            inject(con::setRequestProperty);
            return con;
        }
    }
}
