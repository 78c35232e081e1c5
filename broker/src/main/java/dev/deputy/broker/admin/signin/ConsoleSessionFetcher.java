package dev.deputy.broker.admin.signin;

import io.micronaut.context.annotation.Requires;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.cookie.Cookie;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.security.authentication.Authentication;
import io.micronaut.security.filters.AuthenticationFetcher;
import jakarta.inject.Named;
import jakarta.inject.Singleton;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

import java.util.concurrent.ExecutorService;

/** The console session cookie → the signed-in admin (after the bearer token fetcher: a bearer token wins). */
@Singleton
@Requires(property = "deputy.console.enabled", value = "true")
class ConsoleSessionFetcher implements AuthenticationFetcher<HttpRequest<?>> {
    private final ConsoleSessions sessions;
    private final ExecutorService blocking;

    ConsoleSessionFetcher(ConsoleSessions sessions, @Named(TaskExecutors.BLOCKING) ExecutorService blocking) {
        this.sessions = sessions;
        this.blocking = blocking;
    }

    static String cookie(HttpRequest<?> request) {
        var cookies = request.getCookies();
        return cookies.findCookie(ConsoleSessions.SECURE_COOKIE).or(() -> cookies.findCookie(ConsoleSessions.COOKIE))
                .map(Cookie::getValue).orElse(null);
    }

    @Override
    public Publisher<Authentication> fetchAuthentication(HttpRequest<?> request) {
        String value = cookie(request);
        if (value == null) {
            return Mono.empty();
        }
        // the lookup may reach Redis: keep it off the event loop
        return Mono.fromCallable(() -> sessions.find(value).map(p -> p.authentication()).orElse(null))
                .subscribeOn(Schedulers.fromExecutorService(blocking));
    }

    @Override
    public int getOrder() {
        return 100;
    }
}
