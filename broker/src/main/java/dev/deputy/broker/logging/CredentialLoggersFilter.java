package dev.deputy.broker.logging;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.turbo.TurboFilter;
import ch.qos.logback.core.spi.FilterReply;
import org.slf4j.Marker;

import java.util.Set;

/**
 * Drops the DEBUG and TRACE lines of libraries that print credentials at those levels, whatever level an operator
 * turns on: Micronaut's event publisher logs every event with its source, and micronaut-security's
 * {@code TokenValidatedEvent} has the bearer token as its source; micronaut-security's JWT and OAuth 2.0 packages
 * print the console sign-in's ID token ("JWT Signature verified: eyJ…") and the exchanges with the admin IdP.
 * Installed in logback.xml; the set is what {@code LogSecretsTest} found with every logger at DEBUG.
 */
public final class CredentialLoggersFilter extends TurboFilter {
    private static final Set<String> LOGGERS = Set.of("io.micronaut.context.event.ApplicationEventPublisher");
    private static final String[] PREFIXES = {"io.micronaut.security.token.", "io.micronaut.security.oauth2."};

    /**
     * Runs on every level check of every logger ({@code isDebugEnabled} included: Micronaut, Netty and the other
     * libraries ask on every request), so the usual answer comes first and costs two integer compares: a line at INFO or above, or one
     * the logger's level drops anyway (NEUTRAL then drops it just as DENY would), is not this filter's business.
     */
    @Override
    public FilterReply decide(Marker marker, Logger logger, Level level, String format, Object[] params, Throwable t) {
        if (level == null || level.levelInt >= Level.INFO_INT || logger.getEffectiveLevel().levelInt > level.levelInt) {
            return FilterReply.NEUTRAL;
        }
        String name = logger.getName();
        if (LOGGERS.contains(name)) {
            return FilterReply.DENY;
        }
        for (String p : PREFIXES) {
            if (name.startsWith(p)) {
                return FilterReply.DENY;
            }
        }
        return FilterReply.NEUTRAL;
    }
}
