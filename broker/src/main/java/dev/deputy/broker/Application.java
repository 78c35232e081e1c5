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
 * 8443; {@code off} disables the HTTPS/mTLS listener) and {@code DEPUTY_MANAGEMENT_PORT} (default off: the metrics
 * listener); nothing fixed in application.yml.
 */
public final class Application {
    private Application() {
    }

    public static void main(String[] args) {
        String format = env("DEPUTY_LOG_FORMAT", "text");
        if (!format.equals("text") && !format.equals("json")) {
            System.err.println("deputy: bad configuration: DEPUTY_LOG_FORMAT=" + format + ": expected json or text");
            System.exit(2);
        }
        boolean json = format.equals("json");
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
        props.putAll(managementProperties(env("DEPUTY_MANAGEMENT_PORT", "off")));
        long t0 = System.nanoTime();
        // the native crypto provider (library extracted, loaded and self-tested: ~10% of a start's main thread) loads
        // on a second core while the context starts; whoever needs it first waits for its class initialisation
        // (logging is set up here first: SLF4J initialised from two threads at once replays the second one's calls
        // with a warning on stderr, which breaks DEPUTY_LOG_FORMAT=json's every-line-is-JSON)
        org.slf4j.LoggerFactory.getILoggerFactory();
        Thread.ofPlatform().name("deputy-crypto-init").daemon().start(dev.deputy.broker.keys.CryptoProvider::get);
        try {
            // traces: off unless an OTLP endpoint or exporter is configured (docs/observability.md, "Traces")
            props.putAll(dev.deputy.broker.tracing.TracingSettings.properties(System::getenv));
            // admin console sign-in through the admins' own IdP: off unless DEPUTY_CONSOLE_ISSUER is set (docs/console.md)
            props.putAll(dev.deputy.broker.admin.signin.ConsoleSettings.properties(System::getenv));
            ApplicationContext ctx = new ReportingMicronaut().args(args).mainClass(Application.class).properties(props)
                    .banner(false)
                    // no bootstrap.yml or distributed-configuration client: without this Micronaut looks for one first
                    .bootstrapEnvironment(false).start();
            Shutdown.install(ctx);
            EmbeddedServer server = ctx.getBean(EmbeddedServer.class);
            var publicUrl = ctx.getBean(dev.deputy.broker.config.PublicUrl.class);
            var tenants = ctx.getBean(dev.deputy.broker.tenant.Tenants.class);
            say(json, String.format("Deputy listening on http://%s:%d (started in %d ms)", server.getHost(),
                    dev.deputy.broker.config.PublicUrl.httpPort(server, ctx.getEnvironment()),
                    (System.nanoTime() - t0) / 1_000_000));
            ctx.getBean(dev.deputy.broker.oauth.Endpoints.class).mtlsBase()
                    .ifPresent(m -> say(json, String.format("  mTLS listener %s", m)));
            for (var t : tenants.all()) {
                say(json, String.format("  tenant %-12s issuer %s", t.id(), publicUrl.issuer(t.id())));
            }
        } catch (RuntimeException e) {
            ConfigException ce = findConfigException(e);
            String line = ce != null ? "deputy: bad configuration: " + ce.getMessage()
                    : "deputy: failed to start: " + rootMessage(e);
            if (json) {
                org.slf4j.LoggerFactory.getLogger(Application.class).error(line);
            } else {
                // UTF-8 whatever the locale: a reason quoting the file keeps its § and quotes
                new java.io.PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.err), true,
                        java.nio.charset.StandardCharsets.UTF_8).println(line);
            }
            System.exit(2);
        }
    }

    /**
     * Micronaut's own start-up failure handling logs (a logger we silence) and exits with 1; hand the failure
     * back instead, so that main reports it in one line and exits with 2.
     */
    private static final class ReportingMicronaut extends Micronaut {
        private io.micronaut.core.io.scan.ClassPathResourceLoader resources;

        /** The environment reads application.yml through this: from the jar's entry, not a zip file system. */
        @Override
        public io.micronaut.core.io.scan.ClassPathResourceLoader getResourceLoader() {
            if (resources == null) {
                resources = new dev.deputy.broker.support.JarEntryResourceLoader(getClassLoader());
            }
            return resources;
        }

        @Override
        protected void handleStartupException(io.micronaut.context.env.Environment environment, Throwable exception) {
            throw exception instanceof RuntimeException re ? re : new IllegalStateException(exception);
        }
    }

    /** A start-up line: plain on stdout for a terminal, a log line when every line must be JSON. */
    private static void say(boolean json, String line) {
        if (json) {
            org.slf4j.LoggerFactory.getLogger(Application.class).info(line.strip());
        } else {
            System.out.println(line);
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

    /**
     * The message that explains a failed start: the innermost exception thrown by Deputy's own code (it says what
     * failed in the operator's terms, e.g. "cannot open sealed secret (wrong master key or tampered row)"), rather
     * than the library exception under it ("Tag mismatch"); the innermost of all when Deputy threw none.
     */
    static String rootMessage(Throwable t) {
        Throwable ours = null;
        Throwable c = t;
        while (true) {
            if (!(c instanceof BeanInstantiationException) && c.getMessage() != null && thrownByDeputy(c)) {
                ours = c;
            }
            if (c.getCause() == null || c.getCause() == c) {
                break;
            }
            c = c.getCause();
        }
        Throwable pick = ours != null ? ours : c;
        return pick.getMessage() != null ? pick.getMessage() : pick.toString();
    }

    private static boolean thrownByDeputy(Throwable t) {
        StackTraceElement[] st = t.getStackTrace();
        return st.length > 0 && st[0].getClassName().startsWith("dev.deputy.");
    }
    /**
     * {@code DEPUTY_MANAGEMENT_PORT}: a port puts the metrics on a listener of their own (Prometheus scrapes it; the
     * public listeners never serve them); {@code off} (the default) turns the meters off altogether, since nothing
     * could read them: no registry, no per-request timers, no log-event counter on every log-level check, no
     * Lettuce or connection-pool recorders (docs/observability.md, docs/benchmarks.md).
     */
    public static Map<String, Object> managementProperties(String management) {
        if ("off".equalsIgnoreCase(management)) {
            return Map.of("micronaut.metrics.enabled", false);
        }
        return Map.of("endpoints.all.port", management, "endpoints.prometheus.enabled", true);
    }
}
