package dev.deputy.broker.metrics;

import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.core.instrument.distribution.DistributionStatisticConfig;
import io.micronaut.context.annotation.Factory;
import jakarta.inject.Singleton;

import java.time.Duration;

/**
 * Histogram buckets: a short fixed list (Prometheus {@code _bucket} series), instead of Micrometer's ~70
 * percentile-histogram buckets per series or client-side percentiles (CPU on every record).
 */
@Factory
class MeterSetup {
    /** Latency buckets, 1 ms to 10 s. */
    static final double[] LATENCY_NANOS = nanos(1, 2, 5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 10_000);
    /** Audit batch sizes (entries per commit; the writer takes at most 512). */
    static final double[] BATCH_SIZES = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512};

    @Singleton
    MeterFilter buckets() {
        return new MeterFilter() {
            @Override
            public DistributionStatisticConfig configure(Meter.Id id, DistributionStatisticConfig config) {
                String name = id.getName();
                if (id.getType() == Meter.Type.TIMER && (name.equals(HttpServerMeters.NAME)
                        || name.startsWith("deputy.") || name.startsWith("lettuce.command"))) {
                    return DistributionStatisticConfig.builder().serviceLevelObjectives(LATENCY_NANOS).build()
                            .merge(config);
                }
                if (name.equals(AuditMeters.BATCH_SIZE)) {
                    return DistributionStatisticConfig.builder().serviceLevelObjectives(BATCH_SIZES).build()
                            .merge(config);
                }
                return config;
            }
        };
    }

    private static double[] nanos(long... millis) {
        double[] out = new double[millis.length];
        for (int i = 0; i < millis.length; i++) {
            out[i] = Duration.ofMillis(millis[i]).toNanos();
        }
        return out;
    }
}
