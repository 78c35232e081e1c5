package dev.deputy.connectors;

import io.opentelemetry.api.trace.Tracer;

import java.time.Clock;
import java.time.Duration;

/**
 * Runtime settings shared by all connectors (not operator config). {@code tracer} (null: no spans) opens a span per
 * upstream call; the W3C {@code traceparent} of the current span is sent either way.
 */
public record ConnectorOptions(Clock clock, Duration connectTimeout, Duration readTimeout, int maxResponseBytes,
                               Duration metadataTtl, Duration jwksTtl, Duration jwksRefreshMinInterval, Tracer tracer) {

    public ConnectorOptions(Clock clock, Duration connectTimeout, Duration readTimeout, int maxResponseBytes,
                            Duration metadataTtl, Duration jwksTtl, Duration jwksRefreshMinInterval) {
        this(clock, connectTimeout, readTimeout, maxResponseBytes, metadataTtl, jwksTtl, jwksRefreshMinInterval, null);
    }

    public static ConnectorOptions defaults() {
        return new ConnectorOptions(Clock.systemUTC(), Duration.ofSeconds(5), Duration.ofSeconds(10), 256 * 1024,
                Duration.ofHours(1), Duration.ofMinutes(15), Duration.ofSeconds(30));
    }

    public ConnectorOptions withClock(Clock c) {
        return new ConnectorOptions(c, connectTimeout, readTimeout, maxResponseBytes, metadataTtl, jwksTtl, jwksRefreshMinInterval,
                tracer);
    }

    public ConnectorOptions withTracer(Tracer t) {
        return new ConnectorOptions(clock, connectTimeout, readTimeout, maxResponseBytes, metadataTtl, jwksTtl,
                jwksRefreshMinInterval, t);
    }
}
