package dev.deputy.broker.admin;

import io.micronaut.context.annotation.Replaces;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.annotation.Filter;
import io.micronaut.security.config.SecurityConfiguration;
import io.micronaut.security.filters.AuthenticationFetcher;
import io.micronaut.security.filters.SecurityFilter;
import io.micronaut.security.rules.SecurityRule;

import java.util.Collection;

/**
 * micronaut-security's filter, on the admin API and the console only. Its stock pattern ({@code /**}) would run the
 * authentication fetchers and the security rules in front of every protocol endpoint (token, introspection, JWKS...),
 * which authenticate their clients themselves as their RFCs say; one ANT pattern cannot name both trees
 * ({@code micronaut.security.filter.pattern}), so this subclass declares them.
 */
@Replaces(SecurityFilter.class)
@Filter({"/admin", "/admin/**", "/console", "/console/**"})
public class AdminSecurityFilter extends SecurityFilter {
    public AdminSecurityFilter(Collection<SecurityRule<HttpRequest<?>>> securityRules,
                               Collection<AuthenticationFetcher<HttpRequest<?>>> authenticationFetchers,
                               SecurityConfiguration securityConfiguration) {
        super(securityRules, authenticationFetchers, securityConfiguration);
    }
}
