package dev.deputy.broker.logging;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.turbo.TurboFilter;
import ch.qos.logback.core.spi.FilterReply;
import org.slf4j.Marker;

import java.util.List;
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
    private static final List<String> PREFIXES = List.of("io.micronaut.security.token.", "io.micronaut.security.oauth2.");

    @Override
    public FilterReply decide(Marker marker, Logger logger, Level level, String format, Object[] params, Throwable t) {
        if (level != null && level.levelInt < Level.INFO_INT && (LOGGERS.contains(logger.getName())
                || PREFIXES.stream().anyMatch(logger.getName()::startsWith))) {
            return FilterReply.DENY;
        }
        return FilterReply.NEUTRAL;
    }
}
