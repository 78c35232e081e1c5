package dev.deputy.connectors;

import java.time.Clock;
import java.time.Duration;

/** Runtime settings shared by all connectors (not operator config). */
public record ConnectorOptions(Clock clock, Duration connectTimeout, Duration readTimeout, int maxResponseBytes,
                               Duration metadataTtl, Duration jwksTtl, Duration jwksRefreshMinInterval) {

    public static ConnectorOptions defaults() {
        return new ConnectorOptions(Clock.systemUTC(), Duration.ofSeconds(5), Duration.ofSeconds(10), 256 * 1024,
                Duration.ofHours(1), Duration.ofMinutes(15), Duration.ofSeconds(30));
    }

    public ConnectorOptions withClock(Clock c) {
        return new ConnectorOptions(c, connectTimeout, readTimeout, maxResponseBytes, metadataTtl, jwksTtl, jwksRefreshMinInterval);
    }
}
