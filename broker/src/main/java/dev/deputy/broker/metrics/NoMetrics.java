package dev.deputy.broker.metrics;

import dev.deputy.broker.oauth.TokenMetrics;
import io.micrometer.core.instrument.MeterRegistry;
import io.micronaut.context.annotation.Factory;
import io.micronaut.context.annotation.Requires;
import jakarta.inject.Singleton;

/** With {@code micronaut.metrics.enabled: false} there is no registry: the pipeline reports to nobody. */
@Factory
class NoMetrics {
    @Singleton
    @Requires(missingBeans = MeterRegistry.class)
    TokenMetrics none() {
        return TokenMetrics.NONE;
    }
}
