package dev.deputy.broker.admin;

import io.micronaut.http.HttpRequest;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.security.authentication.Authentication;
import io.micronaut.security.token.validator.TokenValidator;
import jakarta.inject.Named;
import jakarta.inject.Singleton;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

import java.util.concurrent.ExecutorService;

/**
 * Bearer tokens on {@code /admin/**}: an admin token from {@link AdminAuth} gives the role {@code ADMIN} (an admin of
 * some kind) and the credential's grants per tenant ({@link AdminPrincipal}), which {@link AdminAccessFilter} enforces.
 */
@Singleton
class AdminTokenValidator implements TokenValidator<HttpRequest<?>> {
    public static final String ROLE = "ADMIN";
    private final AdminAuth auth;
    private final ExecutorService blocking;

    AdminTokenValidator(AdminAuth auth, @Named(TaskExecutors.BLOCKING) ExecutorService blocking) {
        this.auth = auth;
        this.blocking = blocking;
    }

    @Override
    public Publisher<Authentication> validateToken(String token, HttpRequest<?> request) {
        if (token == null || !token.startsWith("dpa_")) {
            return Mono.empty();
        }
        // the lookup may reach Redis and the database: keep it off the event loop
        return Mono.fromCallable(() -> auth.validate(token).map(AdminPrincipal::authentication).orElse(null))
                .subscribeOn(Schedulers.fromExecutorService(blocking));
    }
}
