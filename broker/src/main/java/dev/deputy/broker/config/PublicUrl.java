package dev.deputy.broker.config;

import io.micronaut.context.BeanProvider;
import io.micronaut.context.env.Environment;
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
    private final Environment env;
    private volatile String resolved;

    PublicUrl(DeputySettings settings, BeanProvider<EmbeddedServer> server, Environment env) {
        this.settings = settings;
        this.server = server;
        this.env = env;
    }

    /**
     * The plain-HTTP listener's port. With the HTTPS listener on too (dual protocol), {@code getPort()} may name
     * either listener: the HTTP one is the bound port that is not {@code micronaut.server.ssl.port}.
     */
    public static int httpPort(EmbeddedServer server, Environment env) {
        if (env.getProperty("micronaut.server.ssl.enabled", Boolean.class, false)
                && server instanceof io.micronaut.http.server.netty.NettyEmbeddedServer netty) {
            int ssl = env.getProperty("micronaut.server.ssl.port", Integer.class, 8443);
            for (Integer p : netty.getBoundPorts()) {
                if (p != ssl) {
                    return p;
                }
            }
        }
        return server.getPort();
    }

    public String base() {
        String r = resolved;
        if (r == null) {
            r = settings.publicUrl().orElseGet(() -> "http://localhost:" + httpPort(server.get(), env));
            resolved = r;
        }
        return r;
    }

    /** RFC 8414 §2: the tenant issuer; byte-identical wherever it appears. */
    public String issuer(String tenant) {
        return base() + "/t/" + tenant;
    }
}
