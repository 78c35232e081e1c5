package dev.deputy.broker;

import dev.deputy.broker.config.ConfigException;
import io.micronaut.context.ApplicationContext;
import io.micronaut.context.exceptions.BeanInstantiationException;
import io.micronaut.runtime.Micronaut;
import io.micronaut.runtime.server.EmbeddedServer;

import java.util.HashMap;
import java.util.Map;

/**
 * Starts the broker. Ports come from {@code DEPUTY_HTTP_PORT} (default 8080) and {@code DEPUTY_HTTPS_PORT} (default
 * 8443; {@code off} disables the HTTPS/mTLS listener); nothing fixed in application.yml.
 */
public final class Application {
    private Application() {
    }

    public static void main(String[] args) {
        Map<String, Object> props = new HashMap<>();
        props.put("micronaut.server.port", env("DEPUTY_HTTP_PORT", "8080"));
        String https = env("DEPUTY_HTTPS_PORT", "8443");
        if (!"off".equalsIgnoreCase(https)) {
            // RFC 8705: the mTLS listener asks for (but does not require) a client certificate
            props.put("micronaut.server.dual-protocol", true);
            props.put("micronaut.server.ssl.enabled", true);
            props.put("micronaut.server.ssl.port", https);
            props.put("micronaut.server.ssl.client-authentication", "want");
        }
        long t0 = System.nanoTime();
        try {
            // traces: off unless an OTLP endpoint or exporter is configured (docs/observability.md, "Traces")
            props.putAll(dev.deputy.broker.tracing.TracingSettings.properties(System::getenv));
            ApplicationContext ctx = new ReportingMicronaut().args(args).mainClass(Application.class).properties(props)
                    .banner(false).start();
            EmbeddedServer server = ctx.getBean(EmbeddedServer.class);
            var publicUrl = ctx.getBean(dev.deputy.broker.config.PublicUrl.class);
            var tenants = ctx.getBean(dev.deputy.broker.tenant.Tenants.class);
            System.out.printf("Deputy listening on http://%s:%d (started in %d ms)%n", server.getHost(),
                    dev.deputy.broker.config.PublicUrl.httpPort(server, ctx.getEnvironment()),
                    (System.nanoTime() - t0) / 1_000_000);
            ctx.getBean(dev.deputy.broker.oauth.Endpoints.class).mtlsBase()
                    .ifPresent(m -> System.out.printf("  mTLS listener %s%n", m));
            for (var t : tenants.all()) {
                System.out.printf("  tenant %-12s issuer %s%n", t.id(), publicUrl.issuer(t.id()));
            }
        } catch (RuntimeException e) {
            ConfigException ce = findConfigException(e);
            if (ce != null) {
                System.err.println("deputy: bad configuration: " + ce.getMessage());
            } else {
                System.err.println("deputy: failed to start: " + rootMessage(e));
            }
            System.exit(2);
        }
    }

    /**
     * Micronaut's own start-up failure handling logs (a logger we silence) and exits with 1; hand the failure
     * back instead, so that main reports it in one line and exits with 2.
     */
    private static final class ReportingMicronaut extends Micronaut {
        @Override
        protected void handleStartupException(io.micronaut.context.env.Environment environment, Throwable exception) {
            throw exception instanceof RuntimeException re ? re : new IllegalStateException(exception);
        }
    }

    private static String env(String name, String dflt) {
        String v = System.getenv(name);
        return v == null || v.isBlank() ? dflt : v.trim();
    }

    static ConfigException findConfigException(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof ConfigException ce) {
                return ce;
            }
        }
        return null;
    }

    private static String rootMessage(Throwable t) {
        Throwable c = t;
        while (c.getCause() != null && c.getCause() != c) {
            if (c instanceof BeanInstantiationException && c.getCause() != null) {
                c = c.getCause();
                continue;
            }
            c = c.getCause();
        }
        return c.getMessage() != null ? c.getMessage() : c.toString();
    }
}
