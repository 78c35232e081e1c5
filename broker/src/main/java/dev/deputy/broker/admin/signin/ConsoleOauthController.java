package dev.deputy.broker.admin.signin;

import dev.deputy.broker.audit.AuditEvent;
import dev.deputy.broker.audit.AuditLog;
import dev.deputy.broker.audit.EventTypes;
import dev.deputy.broker.config.PublicUrl;
import dev.deputy.broker.http.RequestMetaFilter;
import dev.deputy.broker.tenant.Tenants;
import io.micronaut.context.annotation.EachBean;
import io.micronaut.context.annotation.Parameter;
import io.micronaut.context.annotation.Requires;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.MutableHttpResponse;
import io.micronaut.http.cookie.Cookie;
import io.micronaut.http.cookie.SameSite;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.security.authentication.AuthenticationResponse;
import io.micronaut.security.oauth2.client.OauthClient;
import io.micronaut.security.oauth2.routes.OauthController;
import jakarta.inject.Named;
import org.reactivestreams.Publisher;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

import java.net.URI;
import java.util.Map;
import java.util.concurrent.ExecutorService;

/**
 * The console's sign-in routes, one pair per OpenID client ({@code /console/oauth/login/console},
 * {@code /console/oauth/callback/console} and the {@code console-step-up} pair). The login redirect (state, nonce,
 * PKCE S256) and the callback's code exchange and ID token validation are micronaut-security-oauth2's; this class
 * opens the console session (on a blocking thread: the session store and the audit write may block), audits the
 * sign-in and sets the session cookie.
 */
@EachBean(OauthClient.class)
@Requires(property = "deputy.console.enabled", value = "true")
class ConsoleOauthController implements OauthController {
    private static final Logger LOG = LoggerFactory.getLogger(ConsoleOauthController.class);
    private final OauthClient client;
    private final ConsoleSessions sessions;
    private final AuditLog audit;
    private final PublicUrl publicUrl;
    private final Scheduler blocking;

    ConsoleOauthController(@Parameter OauthClient client, ConsoleSessions sessions, AuditLog audit, PublicUrl publicUrl,
                           @Named(TaskExecutors.BLOCKING) ExecutorService blocking) {
        this.client = client;
        this.sessions = sessions;
        this.audit = audit;
        this.publicUrl = publicUrl;
        this.blocking = Schedulers.fromExecutorService(blocking);
    }

    @Override
    public OauthClient getClient() {
        return client;
    }

    @Override
    public Publisher<MutableHttpResponse<?>> login(HttpRequest<?> request) {
        // the first call fetches the IdP's discovery document with a blocking client: never on the event loop
        return Mono.defer(() -> Mono.from(client.authorizationRedirect(request))).subscribeOn(blocking);
    }

    @Override
    public Publisher<MutableHttpResponse<?>> callback(HttpRequest<Map<String, Object>> request) {
        // the code exchange, JWKS and discovery fetches may block: on a blocking (virtual) thread, like the rest
        return Mono.defer(() -> Flux.from(client.onCallback(request)).next()).subscribeOn(blocking)
                .publishOn(blocking)
                .<MutableHttpResponse<?>>map(r -> finish(r, request))
                .onErrorResume(e -> Mono.<MutableHttpResponse<?>>fromCallable(
                        () -> refused(request, "sign_in_failed", e.getClass().getSimpleName())).subscribeOn(blocking))
                .switchIfEmpty(Mono.<MutableHttpResponse<?>>fromCallable(
                        () -> refused(request, "sign_in_failed", "no authentication")).subscribeOn(blocking));
    }

    private MutableHttpResponse<?> finish(AuthenticationResponse r, HttpRequest<?> request) {
        var auth = r.getAuthentication().orElse(null);
        Object signedIn = auth == null ? null : auth.getAttributes().get(ConsoleAuthenticationMapper.SIGNED_IN);
        if (!r.isAuthenticated() || !(signedIn instanceof ConsoleSessions.SignedIn s)) {
            return refused(request, "not_an_admin", r.getMessage().orElse("refused"));
        }
        // a new sign-in (or a step-up) replaces the session: the previous one ends (no fixation, no stale grants)
        sessions.delete(ConsoleSessionFetcher.cookie(request));
        String cookie = sessions.create(s);
        audit.append(AuditEvent.of(Tenants.BROKER_CHAIN, EventTypes.ADMIN_CONSOLE_LOGIN, AuditEvent.Outcome.SUCCESS)
                .subject(s.signIn().subject(), s.signIn().issuer()).request(RequestMetaFilter.of(request))
                .detail("admin", s.name()).detail("provider", client.getName())
                .detail("roles", s.grants().stream().map(g -> g.role().id() + ":" + String.join(",", g.tenants())).toList())
                .detail("acr", s.signIn().acr()).detail("amr", s.signIn().amr()).detail("auth_time", s.signIn().authTime())
                .build());
        boolean secure = request.isSecure() || publicUrl.base().startsWith("https:");
        Cookie c = Cookie.of(secure ? ConsoleSessions.SECURE_COOKIE : ConsoleSessions.COOKIE, cookie)
                .httpOnly(true).secure(secure).path("/").sameSite(SameSite.Lax).maxAge(sessions.ttl());
        return HttpResponse.seeOther(URI.create("/console")).cookie(c).header("Cache-Control", "no-store");
    }

    private MutableHttpResponse<?> refused(HttpRequest<?> request, String error, String reason) {
        LOG.info("console sign-in refused ({}): {}", client.getName(), reason);
        audit.append(AuditEvent.of(Tenants.BROKER_CHAIN, EventTypes.ADMIN_CONSOLE_LOGIN, AuditEvent.Outcome.FAILURE)
                .request(RequestMetaFilter.of(request)).detail("provider", client.getName()).detail("error", error)
                .detail("reason", reason.length() > 300 ? reason.substring(0, 300) : reason).build());
        return HttpResponse.seeOther(URI.create("/console/signed-out?error=" + error)).header("Cache-Control", "no-store");
    }
}
