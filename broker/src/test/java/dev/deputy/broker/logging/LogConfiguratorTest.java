package dev.deputy.broker.logging;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.LoggingEvent;
import ch.qos.logback.classic.util.ContextInitializer;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.OutputStreamAppender;
import ch.qos.logback.core.status.Status;
import net.logstash.logback.argument.StructuredArguments;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link LogConfigurator} makes what Joran makes of logback.xml (the file operators read and copy): the same turbo
 * filter, logger levels and appender, and byte-identical lines in both formats, a stack trace and structured
 * arguments included.
 */
class LogConfiguratorTest {

    @ParameterizedTest
    @ValueSource(strings = {"text", "json"})
    void theCodeMakesWhatLogbackXmlDescribes(String format) throws Exception {
        LoggerContext joran = new LoggerContext();
        joran.setMDCAdapter(new ch.qos.logback.classic.util.LogbackMDCAdapter());
        joran.putProperty("DEPUTY_LOG_FORMAT", format);
        JoranConfigurator xml = new JoranConfigurator();
        xml.setContext(joran);
        xml.doConfigure(LogConfigurator.class.getResource("/logback.xml"));
        assertTrue(joran.getStatusManager().getCopyOfStatusList().stream().allMatch(s -> s.getLevel() < Status.WARN),
                () -> joran.getStatusManager().getCopyOfStatusList().toString());

        LoggerContext code = new LoggerContext();
        code.setMDCAdapter(new ch.qos.logback.classic.util.LogbackMDCAdapter());
        code.putProperty("DEPUTY_LOG_FORMAT", format);
        LogConfigurator c = new LogConfigurator();
        c.setContext(code);
        assertEquals(Configurator.ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY, c.configure(code));
        assertTrue(code.getStatusManager().getCopyOfStatusList().stream().allMatch(s -> s.getLevel() < Status.WARN),
                () -> code.getStatusManager().getCopyOfStatusList().toString());

        assertEquals(classes(joran.getTurboFilterList()), classes(code.getTurboFilterList()));
        assertEquals(levels(joran), levels(code));
        Appender<ILoggingEvent> a = joran.getLogger(Logger.ROOT_LOGGER_NAME).getAppender("CONSOLE");
        Appender<ILoggingEvent> b = code.getLogger(Logger.ROOT_LOGGER_NAME).getAppender("CONSOLE");
        assertEquals(a.getClass(), b.getClass());
        var ea = ((OutputStreamAppender<ILoggingEvent>) a).getEncoder();
        var eb = ((OutputStreamAppender<ILoggingEvent>) b).getEncoder();
        assertEquals(ea.getClass(), eb.getClass());
        assertEquals(format.equals("json") ? net.logstash.logback.encoder.LogstashEncoder.class
                : ch.qos.logback.classic.encoder.PatternLayoutEncoder.class, eb.getClass());

        IllegalStateException failure = new IllegalStateException("outer", new java.io.IOException("inner cause"));
        for (Object[] line : List.<Object[]>of(
                new Object[] {Level.INFO, "plain line", null, new Object[0]},
                new Object[] {Level.WARN, "access {} {}", null,
                        new Object[] {StructuredArguments.kv("status", 200), StructuredArguments.kv("path", "/t/demo/token")}},
                new Object[] {Level.ERROR, "failed: {}", failure, new Object[] {"why"}})) {
            String fromXml = new String(ea.encode(event(joran, line)), StandardCharsets.UTF_8);
            String fromCode = new String(eb.encode(event(code, line)), StandardCharsets.UTF_8);
            assertEquals(fromXml, fromCode);
        }
        joran.stop();
        code.stop();
    }

    @Test
    void logbackFindsItAndReadsNoXml() throws Exception {
        LoggerContext ctx = new LoggerContext();
        ctx.setMDCAdapter(new ch.qos.logback.classic.util.LogbackMDCAdapter());
        new ContextInitializer(ctx).autoConfig();
        assertTrue(ctx.getLogger(Logger.ROOT_LOGGER_NAME).getAppender("CONSOLE") != null);
        assertEquals(Level.WARN, ctx.getLogger("org.flywaydb").getLevel());
        assertFalse(ctx.getStatusManager().getCopyOfStatusList().stream()
                        .anyMatch(s -> s.getMessage().contains("logback.xml")),
                () -> ctx.getStatusManager().getCopyOfStatusList().toString());
        ctx.stop();
    }

    @Test
    void anOperatorsOwnFileIsLeftToLogback() {
        String before = System.getProperty("logback.configurationFile");
        System.setProperty("logback.configurationFile", "/etc/deputy/logback.xml");
        try {
            LoggerContext ctx = new LoggerContext();
            LogConfigurator c = new LogConfigurator();
            c.setContext(ctx);
            assertEquals(Configurator.ExecutionStatus.INVOKE_NEXT_IF_ANY, c.configure(ctx));
            assertTrue(ctx.getTurboFilterList().isEmpty());
        } finally {
            if (before == null) {
                System.clearProperty("logback.configurationFile");
            } else {
                System.setProperty("logback.configurationFile", before);
            }
        }
    }

    private static ILoggingEvent event(LoggerContext ctx, Object[] line) {
        Logger logger = ctx.getLogger("dev.deputy.broker.http.AccessLog");
        LoggingEvent e = new LoggingEvent(Logger.class.getName(), logger, (Level) line[0], (String) line[1],
                (Throwable) line[2], (Object[]) line[3]);
        e.setInstant(Instant.parse("2026-12-07T10:00:00.123Z"));
        e.setThreadName("worker-1");
        return e;
    }

    private static List<String> classes(List<?> objects) {
        List<String> out = new ArrayList<>();
        objects.forEach(o -> out.add(o.getClass().getName()));
        return out;
    }

    private static Map<String, String> levels(LoggerContext ctx) {
        Map<String, String> out = new TreeMap<>();
        for (Logger l : ctx.getLoggerList()) {
            if (l.getLevel() != null) {
                out.put(l.getName(), l.getLevel().toString());
            }
        }
        return out;
    }
}
