package dev.deputy.broker.tracing;

import io.micronaut.core.annotation.Nullable;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Scope;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import jakarta.annotation.PreDestroy;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;

import java.util.concurrent.TimeUnit;

/**
 * Deputy's own spans (the token pipeline, storage, Redis), children of the server span that micronaut-tracing opens
 * from the incoming W3C {@code traceparent}. When tracing is off (no {@link OpenTelemetry} bean: see
 * {@link TracingSettings}) every call is one null check that returns the shared {@link Step#NONE}: no span is built
 * and nothing is allocated.
 */
@Singleton
public final class Traces {
    /** For code built outside the bean context (tests, tools): never traces. */
    public static final Traces OFF = new Traces(null);
    public static final String INSTRUMENTATION = "dev.deputy.broker";

    private final Tracer tracer;
    private final OpenTelemetry openTelemetry;

    @Inject
    public Traces(@Nullable OpenTelemetry openTelemetry) {
        this.openTelemetry = openTelemetry;
        this.tracer = openTelemetry == null ? null : openTelemetry.getTracer(INSTRUMENTATION);
    }

    /** At shutdown (after the drain): the spans still batched go out before the SDK closes. */
    @PreDestroy
    void flush() {
        if (openTelemetry instanceof OpenTelemetrySdk sdk) {
            sdk.getSdkTracerProvider().forceFlush().join(5, TimeUnit.SECONDS);
        }
    }

    public boolean on() {
        return tracer != null;
    }

    /** The tracer, or null when tracing is off. */
    public @Nullable Tracer tracer() {
        return tracer;
    }

    /** Opens an internal span under the current one and makes it current until {@link Step#close()}. */
    public Step step(String name) {
        return tracer == null ? Step.NONE : Step.open(tracer, name, SpanKind.INTERNAL);
    }

    /**
     * An internal span under the current one that is never made current: for work that ends on another thread (an
     * audit append answered by the writer); {@link Step#close()} may then run on any thread.
     */
    public Step detached(String name) {
        return tracer == null ? Step.NONE
                : new Step(tracer.spanBuilder(name).setSpanKind(SpanKind.INTERNAL).startSpan(), null);
    }

    /** The same for a call that leaves the process (database, Redis, an upstream HTTP call). */
    public Step client(String name) {
        return tracer == null ? Step.NONE : Step.open(tracer, name, SpanKind.CLIENT);
    }

    /** One span, current while it is open; {@link #NONE} does nothing. */
    public static final class Step implements AutoCloseable {
        public static final Step NONE = new Step(null, null);
        private final Span span;
        private final Scope scope;

        private Step(Span span, Scope scope) {
            this.span = span;
            this.scope = scope;
        }

        static Step open(Tracer tracer, String name, SpanKind kind) {
            Span span = tracer.spanBuilder(name).setSpanKind(kind).startSpan();
            return new Step(span, span.makeCurrent());
        }

        public boolean recording() {
            return span != null;
        }

        public Step attr(String key, @Nullable String value) {
            if (span != null && value != null) {
                span.setAttribute(key, value);
            }
            return this;
        }

        public Step attr(String key, long value) {
            if (span != null) {
                span.setAttribute(key, value);
            }
            return this;
        }

        public Step attr(String key, boolean value) {
            if (span != null) {
                span.setAttribute(key, value);
            }
            return this;
        }

        /** A protocol refusal (an OAuth error answered to the client): an attribute, not a span error. */
        public void refused(String errorCode) {
            if (span != null) {
                span.setAttribute("deputy.error", errorCode);
            }
        }

        /** An unexpected failure: the span's status is ERROR, with the exception's type (never its message). */
        public void failed(Throwable t) {
            if (span != null) {
                span.setStatus(StatusCode.ERROR, t.getClass().getSimpleName());
                span.setAttribute("exception.type", t.getClass().getName());
            }
        }

        @Override
        public void close() {
            if (span != null) {
                if (scope != null) {
                    scope.close();
                }
                span.end();
            }
        }
    }
}
