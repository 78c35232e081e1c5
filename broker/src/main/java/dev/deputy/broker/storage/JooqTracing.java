package dev.deputy.broker.storage;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import org.jooq.ExecuteContext;
import org.jooq.ExecuteListener;

import java.util.Locale;

/**
 * A CLIENT span per SQL statement run through jOOQ inside a traced request: name {@code SELECT} / {@code INSERT} /
 * ..., {@code db.system.name} ({@code h2}, {@code mariadb}, {@code mysql}), {@code db.operation.name} and
 * {@code db.query.text} (jOOQ's SQL with {@code ?} for every bound value: no value reaches the span). Registered only
 * when tracing is on; statements outside a traced request (start-up, the audit writer) open no span.
 */
final class JooqTracing implements ExecuteListener {
    private static final String SPAN = "deputy.otel.span";
    private static final int MAX_TEXT = 2048;
    private final Tracer tracer;
    private final String system;

    JooqTracing(Tracer tracer, String system) {
        this.tracer = tracer;
        this.system = system;
    }

    @Override
    public void executeStart(ExecuteContext ctx) {
        if (!Span.current().getSpanContext().isValid()) {
            return;
        }
        String sql = ctx.sql();
        String op = operation(sql);
        Span span = tracer.spanBuilder(op).setSpanKind(SpanKind.CLIENT)
                .setAttribute("db.system.name", system)
                .setAttribute("db.operation.name", op)
                .setAttribute("db.query.text", sql == null ? "" : sql.length() > MAX_TEXT ? sql.substring(0, MAX_TEXT) : sql)
                .startSpan();
        ctx.data(SPAN, span);
    }

    @Override
    public void exception(ExecuteContext ctx) {
        if (ctx.data(SPAN) instanceof Span span && ctx.exception() != null) {
            span.setStatus(StatusCode.ERROR, ctx.exception().getClass().getSimpleName());
        }
    }

    @Override
    public void end(ExecuteContext ctx) {
        if (ctx.data(SPAN) instanceof Span span) {
            if (ctx.rows() >= 0) {
                span.setAttribute("db.response.returned_rows", ctx.rows());
            }
            span.end();
            ctx.data(SPAN, null);
        }
    }

    static String operation(String sql) {
        if (sql == null) {
            return "SQL";
        }
        String s = sql.stripLeading();
        int end = 0;
        while (end < s.length() && Character.isLetter(s.charAt(end))) {
            end++;
        }
        return end == 0 ? "SQL" : s.substring(0, end).toUpperCase(Locale.ROOT);
    }
}
