package dev.deputy.broker.config;

import io.micronaut.context.annotation.Factory;
import io.micronaut.context.env.Environment;
import jakarta.inject.Singleton;

import java.nio.file.Path;
import java.util.Optional;

@Factory
class SettingsFactory {

    @Singleton
    DeputySettings settings(Environment env) {
        Path dataDir = Path.of(env.getProperty("deputy.data-dir", String.class, "./data")).toAbsolutePath().normalize();
        Path configDir = Path.of(env.getProperty("deputy.config-dir", String.class, "./config")).toAbsolutePath().normalize();
        Optional<String> publicUrl = nonBlank(env, "deputy.public-url").map(SettingsFactory::stripTrailingSlash);
        Optional<DeputySettings.MySql> mysql = nonBlank(env, "deputy.mysql.url").map(url -> new DeputySettings.MySql(url,
                env.getProperty("deputy.mysql.user", String.class, "root"),
                env.getProperty("deputy.mysql.password", String.class, "")));
        Optional<DeputySettings.Redis> redis = nonBlank(env, "deputy.redis.uri").map(uri -> new DeputySettings.Redis(uri,
                env.getProperty("deputy.redis.prefix", String.class, "deputy:")));
        return new DeputySettings(dataDir, configDir, publicUrl, nonBlank(env, "deputy.master-key"), mysql, redis);
    }

    private static Optional<String> nonBlank(Environment env, String key) {
        return env.getProperty(key, String.class).map(String::trim).filter(s -> !s.isEmpty());
    }

    private static String stripTrailingSlash(String url) {
        return url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
    }
}
