package dev.deputy.broker.admin;

import dev.deputy.broker.support.FilterPaths;
import io.micronaut.http.filter.FilterPatternStyle;
import io.micronaut.context.annotation.Replaces;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.MutableHttpResponse;
import io.micronaut.http.annotation.Filter;
import io.micronaut.http.filter.ServerFilterChain;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.security.authentication.Authentication;
import io.micronaut.security.config.SecurityConfiguration;
import io.micronaut.security.filters.AuthenticationFetcher;
import io.micronaut.security.filters.SecurityFilter;
import io.micronaut.security.rules.SecurityRule;
import jakarta.inject.Named;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

import java.util.Collection;
import java.util.Optional;
import java.util.concurrent.ExecutorService;

/**
 * micronaut-security's filter, on the admin API and the console only. Its stock pattern ({@code /**}) would run the
 * authentication fetchers and the security rules in front of every protocol endpoint (token, introspection, JWKS...),
 * which authenticate their clients themselves as their RFCs say; one ANT pattern cannot name both trees
 * ({@code micronaut.security.filter.pattern}), so this subclass declares them. Once the caller is authenticated, an
 * admin's request under {@code /admin} also passes {@link AdminAccess} (roles per tenant, CSRF, step-up) before the
 * framework's rules.
 */
@Replaces(SecurityFilter.class)
@Filter(patterns = FilterPaths.ADMIN_AND_CONSOLE, patternStyle = FilterPatternStyle.REGEX)
public class AdminSecurityFilter extends SecurityFilter {
    private final AdminAccess access;
    private final Scheduler blocking;

    AdminSecurityFilter(Collection<SecurityRule<HttpRequest<?>>> securityRules,
                        Collection<AuthenticationFetcher<HttpRequest<?>>> authenticationFetchers,
                        SecurityConfiguration securityConfiguration, AdminAccess access,
                        @Named(TaskExecutors.BLOCKING) ExecutorService blocking) {
        super(securityRules, authenticationFetchers, securityConfiguration);
        this.access = access;
        this.blocking = Schedulers.fromExecutorService(blocking);
    }

    @Override
    protected Publisher<MutableHttpResponse<?>> checkRules(HttpRequest<?> request, ServerFilterChain chain,
                                                           Authentication authentication) {
        Optional<AdminPrincipal> who = AdminPrincipal.of(authentication);
        if (who.isEmpty() || !request.getPath().startsWith("/admin/")) {
            return super.checkRules(request, chain, authentication);
        }
        // the check may look an agent up and writes the audit entry of a refusal: off the event loop
        return Mono.fromCallable(() -> Optional.ofNullable(access.check(who.get(), request)))
                .subscribeOn(blocking)
                .flatMap(refused -> refused.isPresent()
                        ? Mono.<MutableHttpResponse<?>>just(refused.get())
                        : Mono.from(super.checkRules(request, chain, authentication)));
    }
}
