package dev.deputy.broker.config;

import io.micronaut.context.BeanProvider;
import io.micronaut.runtime.server.EmbeddedServer;
import jakarta.inject.Singleton;

/**
 * The broker's external base URL. Configured by {@code DEPUTY_PUBLIC_URL}; otherwise derived from the
 * HTTP listener once it is bound ({@code http://localhost:<port>}), which also serves tests on random ports.
 */
@Singleton
public class PublicUrl {
    private final DeputySettings settings;
    private final BeanProvider<EmbeddedServer> server;
    private volatile String resolved;

    PublicUrl(DeputySettings settings, BeanProvider<EmbeddedServer> server) {
        this.settings = settings;
        this.server = server;
    }

    public String base() {
        String r = resolved;
        if (r == null) {
            r = settings.publicUrl().orElseGet(() -> "http://localhost:" + server.get().getPort());
            resolved = r;
        }
        return r;
    }

    /** RFC 8414 §2: the tenant issuer; byte-identical wherever it appears. */
    public String issuer(String tenant) {
        return base() + "/t/" + tenant;
    }
}
