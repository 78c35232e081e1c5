package dev.deputy.broker.storage.ephemeral;

import dev.deputy.broker.config.DeputySettings;
import dev.deputy.broker.ephemeral.EphemeralStore;
import io.micronaut.context.annotation.Bean;
import io.micronaut.context.annotation.Factory;
import jakarta.inject.Singleton;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;

/** Redis when {@code DEPUTY_REDIS_URI} is set, else the in-process store. */
@Factory
class EphemeralStoreFactory {
    private static final Logger LOG = LoggerFactory.getLogger(EphemeralStoreFactory.class);

    @Singleton
    @Bean(preDestroy = "close")
    EphemeralStore ephemeralStore(DeputySettings settings,
                                  @io.micronaut.context.annotation.Value("${deputy.startup-wait:30s}") Duration startupWait) {
        if (settings.redis().isPresent()) {
            DeputySettings.Redis r = settings.redis().get();
            LOG.info("ephemeral store: redis (prefix {})", r.prefix());
            return new RedisEphemeralStore(r.uri(), r.prefix(), startupWait);
        }
        LOG.info("ephemeral store: in-process");
        return new InProcessEphemeralStore();
    }
}
