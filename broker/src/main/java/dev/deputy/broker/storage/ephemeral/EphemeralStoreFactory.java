package dev.deputy.broker.storage.ephemeral;

import dev.deputy.broker.config.DeputySettings;
import dev.deputy.broker.ephemeral.EphemeralStore;
import dev.deputy.broker.ratelimit.RateLimitStore;
import dev.deputy.broker.tracing.Traces;
import io.micronaut.context.annotation.Bean;
import io.micronaut.context.annotation.Factory;
import jakarta.inject.Singleton;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.lettuce.core.metrics.MicrometerCommandLatencyRecorder;
import io.lettuce.core.metrics.MicrometerOptions;
import io.lettuce.core.resource.ClientResources;
import io.micrometer.core.instrument.MeterRegistry;

import java.time.Duration;
import java.util.Optional;

/** Redis when {@code DEPUTY_REDIS_URI} is set, else the in-process store. */
@Factory
class EphemeralStoreFactory {
    private static final Logger LOG = LoggerFactory.getLogger(EphemeralStoreFactory.class);

    @Singleton
    @Bean(preDestroy = "close")
    EphemeralStore ephemeralStore(DeputySettings settings, Optional<MeterRegistry> registry,
                                  @io.micronaut.context.annotation.Value("${deputy.startup-wait:30s}") Duration startupWait,
                                  Traces traces) {
        EphemeralStore store = store(settings, registry, startupWait);
        // traces: a span per call when tracing is on; off, the store itself (no wrapper on the hot path)
        return traces.on() ? new TracedEphemeralStore(store, traces) : store;
    }

    private static EphemeralStore store(DeputySettings settings, Optional<MeterRegistry> registry, Duration startupWait) {
        if (settings.redis().isPresent()) {
            DeputySettings.Redis r = settings.redis().get();
            // Lettuce's command latencies (lettuce_command_completion_seconds{command,remote}; local address not
            // distinguished, so reconnections add no series)
            ClientResources resources = registry.map(reg -> RedisEphemeralStore.resourcesBuilder()
                    .commandLatencyRecorder(new MicrometerCommandLatencyRecorder(reg,
                            // no client-side percentiles (CPU on every command): buckets come from metrics.MeterSetup
                            MicrometerOptions.builder().targetPercentiles(new double[0]).build()))
                    .build()).orElse(null);
            RedisEphemeralStore store = new RedisEphemeralStore(r.uri(), r.prefix(), startupWait, resources);
            LOG.info("ephemeral store: {} (prefix {})", store.backend(), r.prefix());
            return store;
        }
        LOG.info("ephemeral store: in-process");
        return new InProcessEphemeralStore();
    }

    /** The rate-limit buckets beside the ephemeral store: in Redis when it is Redis, else in-process. */
    @Singleton
    @Bean(preDestroy = "close")
    RateLimitStore rateLimitStore(EphemeralStore store) {
        // with tracing on, the store is wrapped: the buckets must still be in Redis, shared by every node
        EphemeralStore inner = store instanceof TracedEphemeralStore traced ? traced.inner() : store;
        if (inner instanceof RedisEphemeralStore redis) {
            return new RedisRateLimitStore(redis.connectBytes(), redis.prefix());
        }
        return new InProcessRateLimitStore();
    }
}
