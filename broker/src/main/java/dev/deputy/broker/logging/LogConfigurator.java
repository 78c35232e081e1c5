package dev.deputy.broker.logging;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ConfiguratorRank;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.encoder.Encoder;
import ch.qos.logback.core.spi.ContextAwareBase;
import net.logstash.logback.encoder.LogstashEncoder;
import net.logstash.logback.fieldnames.LogstashFieldNames;
import net.logstash.logback.stacktrace.ShortenedThrowableConverter;

import java.util.Map;

/**
 * The broker's logging, set up in code: what {@code logback.xml} (with {@code logback-text.xml} or
 * {@code logback-json.xml}) describes, without logback's XML configurator (Joran: SAX parsing, a model, its
 * processors — ~10% of a start's CPU, spent on the first {@code getLogger}). Found by logback as a
 * {@link Configurator} service ({@code META-INF/services}); {@code LogConfiguratorTest} holds it equal to what Joran
 * makes of {@code logback.xml}, line for line in both formats.
 *
 * <p>{@code -Dlogback.configurationFile=<file>} still works: this then steps aside and Joran reads that file. So
 * does an unknown {@code DEPUTY_LOG_FORMAT} (Application refuses it before anything logs).
 */
@ConfiguratorRank(ConfiguratorRank.CUSTOM_NORMAL_PRIORITY)
public final class LogConfigurator extends ContextAwareBase implements Configurator {
    /** The loggers logback.xml quiets, and to what. */
    static final Map<String, Level> LEVELS = Map.of(
            "org.flywaydb", Level.WARN,
            "com.zaxxer.hikari", Level.WARN,
            "org.jooq", Level.WARN,
            "io.lettuce", Level.WARN,
            "io.netty", Level.WARN,
            // start-up failures are reported by Application itself, without a stack trace
            "io.micronaut.runtime.Micronaut", Level.OFF);

    @Override
    public ExecutionStatus configure(LoggerContext ctx) {
        if (System.getProperty("logback.configurationFile") != null) {
            return ExecutionStatus.INVOKE_NEXT_IF_ANY;
        }
        String format = variable(ctx, "DEPUTY_LOG_FORMAT", "text");
        if (!format.equals("text") && !format.equals("json")) {
            return ExecutionStatus.INVOKE_NEXT_IF_ANY;
        }
        // whatever the levels: no DEBUG/TRACE line of the libraries that print credentials there
        CredentialLoggersFilter credentials = new CredentialLoggersFilter();
        credentials.setContext(ctx);
        credentials.start();
        ctx.addTurboFilter(credentials);

        ConsoleAppender<ILoggingEvent> console = new ConsoleAppender<>();
        console.setContext(ctx);
        console.setName("CONSOLE");
        console.setEncoder(format.equals("json") ? json(ctx) : text(ctx));
        console.start();

        LEVELS.forEach((name, level) -> ctx.getLogger(name).setLevel(level));
        Logger root = ctx.getLogger(Logger.ROOT_LOGGER_NAME);
        root.setLevel(Level.toLevel(variable(ctx, "DEPUTY_LOG_LEVEL", "INFO")));
        root.addAppender(console);
        return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
    }

    /** logback-text.xml: one readable line per event. */
    static Encoder<ILoggingEvent> text(LoggerContext ctx) {
        PatternLayoutEncoder encoder = new PatternLayoutEncoder();
        encoder.setContext(ctx);
        encoder.setPattern("%d{HH:mm:ss.SSS} %-5level %logger{24} - %msg%n");
        encoder.start();
        return encoder;
    }

    /**
     * logback-json.xml: one JSON object per line (@timestamp, level, logger_name, thread_name, message, the MDC,
     * structured arguments, stack_trace), without logstash's version and level_value fields.
     */
    static Encoder<ILoggingEvent> json(LoggerContext ctx) {
        LogstashEncoder encoder = new LogstashEncoder();
        encoder.setContext(ctx);
        encoder.setIncludeContext(false);
        LogstashFieldNames names = new LogstashFieldNames();
        names.setVersion("[ignore]");
        names.setLevelValue("[ignore]");
        encoder.setFieldNames(names);
        encoder.setCustomFields("{\"service\":\"deputy\"}");
        ShortenedThrowableConverter stack = new ShortenedThrowableConverter();
        stack.setContext(ctx);
        stack.setMaxDepthPerThrowable(30);
        stack.setMaxLength(8192);
        stack.setRootCauseFirst(true);
        encoder.setThrowableConverter(stack);
        encoder.start();
        return encoder;
    }

    /** A {@code ${name:-default}} of logback.xml: the context's property, a system property, then the environment. */
    private static String variable(LoggerContext ctx, String name, String dflt) {
        String v = ctx.getProperty(name);
        if (v == null) {
            v = System.getProperty(name);
        }
        if (v == null) {
            v = System.getenv(name);
        }
        return v == null ? dflt : v;
    }
}
