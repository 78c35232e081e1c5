package dev.deputy.broker.logging;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.core.spi.FilterReply;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.MDC;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * The request's log context as a propagated context element: it puts its five keys into the MDC of the thread that
 * runs a piece of the request, leaves the thread's other keys alone, and puts back exactly what was there before.
 */
class LogContextTest {
    @BeforeEach
    @AfterEach
    void clear() {
        MDC.clear(); // this thread may carry another test's request context
    }

    @Test
    void putsItsKeysAndRestoresWhatTheThreadHad() {
        MDC.put("other", "kept");
        MDC.put(LogContext.REQUEST_ID, "outer-request");
        LogContext ctx = new LogContext("acme.eu-1", "req-ä/1", "corr-1");
        String[] before = ctx.updateThreadContext();
        assertEquals("acme.eu-1", MDC.get(LogContext.TENANT));
        assertEquals("req-ä/1", MDC.get(LogContext.REQUEST_ID));
        assertEquals("corr-1", MDC.get(LogContext.CORRELATION_ID));
        assertNull(MDC.get(LogContext.CLIENT_ID));
        assertEquals("kept", MDC.get("other"));
        // client authentication on this thread names the client
        MDC.put(LogContext.CLIENT_ID, "client.with.dots");
        ctx.restoreThreadContext(before);
        assertEquals(Map.of("other", "kept", LogContext.REQUEST_ID, "outer-request"), MDC.getCopyOfContextMap());
    }

    @Test
    void aCleanThreadIsLeftClean() {
        LogContext ctx = new LogContext(null, "req-2", "corr-2");
        String[] before = ctx.updateThreadContext();
        assertNull(before);
        assertNull(MDC.get(LogContext.TENANT));
        assertEquals("req-2", MDC.get(LogContext.REQUEST_ID));
        ctx.restoreThreadContext(before);
        Map<String, String> left = MDC.getCopyOfContextMap();
        assertEquals(Map.of(), left == null ? Map.of() : left);
    }

    @Test
    void credentialLoggersAreDroppedOnlyBelowInfo() {
        LoggerContext lc = new LoggerContext();
        CredentialLoggersFilter f = new CredentialLoggersFilter();
        Logger publisher = lc.getLogger("io.micronaut.context.event.ApplicationEventPublisher");
        Logger security = lc.getLogger("io.micronaut.security.token.jwt.validator.JwtValidator");
        Logger plain = lc.getLogger("dev.deputy.broker.oauth.TokenEndpoint");
        lc.getLogger(Logger.ROOT_LOGGER_NAME).setLevel(Level.INFO);
        // at INFO, a DEBUG check is the logger's own business (it drops the line anyway)
        assertEquals(FilterReply.NEUTRAL, f.decide(null, publisher, Level.DEBUG, "x", null, null));
        assertEquals(FilterReply.NEUTRAL, f.decide(null, security, Level.INFO, "x", null, null));
        // an operator turning DEBUG on does not turn the credential loggers on
        lc.getLogger(Logger.ROOT_LOGGER_NAME).setLevel(Level.TRACE);
        assertEquals(FilterReply.DENY, f.decide(null, publisher, Level.DEBUG, "x", null, null));
        assertEquals(FilterReply.DENY, f.decide(null, security, Level.TRACE, "x", null, null));
        assertEquals(FilterReply.NEUTRAL, f.decide(null, security, Level.WARN, "x", null, null));
        assertEquals(FilterReply.NEUTRAL, f.decide(null, plain, Level.DEBUG, "x", null, null));
    }
}
