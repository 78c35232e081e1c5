package dev.deputy.broker.console;

import dev.deputy.broker.agent.ClientSecrets;
import dev.deputy.broker.audit.AuditEvent;
import dev.deputy.broker.audit.AuditEvent.Outcome;
import dev.deputy.broker.audit.AuditLog;
import dev.deputy.broker.audit.EventTypes;
import dev.deputy.broker.audit.RequestMeta;
import dev.deputy.broker.authorize.AuthorizeOutcome;
import dev.deputy.broker.authorize.ConsentRevocation;
import dev.deputy.broker.authorize.LoginFlow;
import dev.deputy.broker.config.PublicUrl;
import dev.deputy.broker.federation.Session;
import dev.deputy.broker.federation.Sessions;
import dev.deputy.broker.governance.Approvals;
import dev.deputy.broker.http.RequestMetaFilter;
import dev.deputy.broker.http.UnknownTenantException;
import dev.deputy.broker.tenant.Tenant;
import dev.deputy.broker.tenant.Tenants;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.MediaType;
import io.micronaut.http.MutableHttpResponse;
import io.micronaut.http.annotation.Body;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.PathVariable;
import io.micronaut.http.annotation.Post;
import io.micronaut.http.cookie.Cookie;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import io.micronaut.security.annotation.Secured;
import io.micronaut.security.rules.SecurityRule;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The end user's account page, {@code <issuer>/account}: signed in through the tenant's connector (its own session
 * cookie, {@code Path=/t/<tenant>/account}), it lists who holds consent or refresh tokens for the user, the agents
 * that acted for them and the activity in their name, and revokes consents and refresh-token families. Every form
 * carries a CSRF token derived from the session (a wrong one: 403, audited, nothing changes); every change answers
 * 303 back to the page. Its "Pending approvals" section shows the OpenID CIBA requests waiting for the user (the
 * transaction of their {@code authorization_details}, the binding message, the client and agent asking) with
 * Approve / Deny ({@link ApprovalItems}, {@code governance.Approvals}).
 */
@Controller("/t/{tenant}/account")
@Secured(SecurityRule.IS_ANONYMOUS)
@ExecuteOn(TaskExecutors.BLOCKING)
public class AccountController {
    private final Tenants tenants;
    private final Sessions sessions;
    private final LoginFlow login;
    private final AccountService account;
    private final ConsentRevocation revocation;
    private final PageSupport pages;
    private final AuditLog audit;
    private final PublicUrl publicUrl;
    private final Approvals approvals;
    private final Clock clock = Clock.systemUTC();

    public AccountController(Tenants tenants, Sessions sessions, LoginFlow login, AccountService account,
                             ConsentRevocation revocation, PageSupport pages, AuditLog audit, PublicUrl publicUrl,
                             Approvals approvals) {
        this.tenants = tenants;
        this.sessions = sessions;
        this.login = login;
        this.account = account;
        this.revocation = revocation;
        this.pages = pages;
        this.audit = audit;
        this.publicUrl = publicUrl;
        this.approvals = approvals;
    }

    @Get
    public HttpResponse<?> page(@PathVariable String tenant, HttpRequest<?> request) {
        Tenant t = tenant(tenant);
        String cookie = cookie(request);
        Optional<Session> s = sessions.find(Sessions.Kind.ACCOUNT, t.id(), cookie, clock.millis());
        String ui = request.getParameters().get("ui_locales");
        if (s.isEmpty()) {
            Map<String, List<String>> params = new LinkedHashMap<>();
            request.getParameters().forEach((k, v) -> params.put(k, List.copyOf(v)));
            AuthorizeOutcome o = login.beginAccountLogin(t, params, RequestMetaFilter.of(request));
            if (o instanceof AuthorizeOutcome.Redirect r) {
                return PageSupport.cookies(PageSupport.redirect(r.location()), r.cookies());
            }
            AuthorizeOutcome.Page p = (AuthorizeOutcome.Page) o;
            return PageSupport.cookies(pages.page(request, t, p.status(), p.view(), p.model(), ui), p.cookies());
        }
        long before = Long.MAX_VALUE;
        String b = request.getParameters().get("before");
        if (b != null) {
            try {
                before = Math.max(1, Long.parseLong(b));
            } catch (NumberFormatException e) {
                before = Long.MAX_VALUE;
            }
        }
        Map<String, Object> model = account.model(s.get(), before, clock.millis());
        model.put("csrf", csrf(cookie));
        model.put("base", "/t/" + t.id() + "/account");
        model.put("approvals", ApprovalItems.of(approvals.pendingFor(t.id(), s.get().userId())));
        return pages.page(request, t, 200, "account/home", model, ui);
    }

    /** Approve or deny a pending CIBA request of this user (only theirs, only while it waits). */
    @Post(value = "/approvals/decide", consumes = MediaType.APPLICATION_FORM_URLENCODED)
    public HttpResponse<?> decideApproval(@PathVariable String tenant, HttpRequest<?> request,
                                          @Nullable @Body Map<String, String> form) {
        Tenant t = tenant(tenant);
        Map<String, String> f = form == null ? Map.of() : form;
        RequestMeta meta = RequestMetaFilter.of(request);
        String decision = f.get("decision");
        boolean approve = "approve".equals(decision);
        String type = approve ? EventTypes.APPROVAL_GRANTED : EventTypes.APPROVAL_DENIED;
        Optional<Session> s = checked(t, request, f, type, meta);
        if (s.isEmpty()) {
            return forbidden(request, t);
        }
        Session u = s.get();
        String id = bounded(f.get("approval"));
        Approvals.Decided done = id == null || !(approve || "deny".equals(decision)) ? Approvals.Decided.NOT_FOUND
                : approvals.decide(t.id(), id, u.userId(), approve, meta);
        if (done != Approvals.Decided.DONE) {
            audit.append(AuditEvent.of(t.id(), type, Outcome.FAILURE).subject(u.upstreamSub(), u.upstreamIss())
                    .request(meta).detail("user_id", u.userId()).detail("actor", "user:" + u.userId())
                    .detail("approval", id == null || id.length() > 64 ? null : id)
                    .detail("reason", done.name().toLowerCase()).build());
            return done == Approvals.Decided.NOT_FOUND ? notFound(request, t)
                    : pages.page(request, t, 409, "error", Map.of("titleKey", "error.cannot_continue",
                    "messageKey", "error.approval_gone"), request.getParameters().get("ui_locales"));
        }
        return back(t);
    }

    @Post(value = "/consents/revoke", consumes = MediaType.APPLICATION_FORM_URLENCODED)
    public HttpResponse<?> revokeConsent(@PathVariable String tenant, HttpRequest<?> request,
                                         @Nullable @Body Map<String, String> form) {
        Tenant t = tenant(tenant);
        Map<String, String> f = form == null ? Map.of() : form;
        RequestMeta meta = RequestMetaFilter.of(request);
        Optional<Session> s = checked(t, request, f, EventTypes.CONSENT_REVOKED, meta);
        if (s.isEmpty()) {
            return forbidden(request, t);
        }
        String client = bounded(f.get("client"));
        String resource = bounded(f.get("resource"));
        Session u = s.get();
        boolean done = client != null && resource != null && revocation.revokeConsent(t.id(), u.userId(), client, resource,
                ConsentRevocation.By.user(u.userId(), u.upstreamSub(), u.upstreamIss()), meta);
        if (!done) {
            audit.append(AuditEvent.of(t.id(), EventTypes.CONSENT_REVOKED, Outcome.FAILURE).subject(u.upstreamSub(), u.upstreamIss())
                    .client(client).request(meta).detail("user_id", u.userId()).detail("actor", "user:" + u.userId())
                    .detail("reason", "not_found").build());
            return notFound(request, t);
        }
        return back(t);
    }

    @Post(value = "/families/revoke", consumes = MediaType.APPLICATION_FORM_URLENCODED)
    public HttpResponse<?> revokeFamily(@PathVariable String tenant, HttpRequest<?> request,
                                        @Nullable @Body Map<String, String> form) {
        Tenant t = tenant(tenant);
        Map<String, String> f = form == null ? Map.of() : form;
        RequestMeta meta = RequestMetaFilter.of(request);
        Optional<Session> s = checked(t, request, f, EventTypes.TOKEN_REVOKED, meta);
        if (s.isEmpty()) {
            return forbidden(request, t);
        }
        String family = bounded(f.get("family"));
        Session u = s.get();
        boolean done = family != null && revocation.revokeFamily(t.id(), u.userId(), family,
                ConsentRevocation.By.user(u.userId(), u.upstreamSub(), u.upstreamIss()), meta);
        if (!done) {
            audit.append(AuditEvent.of(t.id(), EventTypes.TOKEN_REVOKED, Outcome.FAILURE).subject(u.upstreamSub(), u.upstreamIss())
                    .request(meta).detail("user_id", u.userId()).detail("actor", "user:" + u.userId())
                    .detail("reason", "not_found").build());
            return notFound(request, t);
        }
        return back(t);
    }

    @Post(value = "/logout", consumes = MediaType.APPLICATION_FORM_URLENCODED)
    public HttpResponse<?> logout(@PathVariable String tenant, HttpRequest<?> request, @Nullable @Body Map<String, String> form) {
        Tenant t = tenant(tenant);
        RequestMeta meta = RequestMetaFilter.of(request);
        Optional<Session> s = checked(t, request, form == null ? Map.of() : form, EventTypes.LOGOUT, meta);
        if (s.isEmpty()) {
            return forbidden(request, t);
        }
        sessions.end(Sessions.Kind.ACCOUNT, t.id(), cookie(request));
        audit.append(AuditEvent.of(t.id(), EventTypes.LOGOUT, Outcome.SUCCESS).subject(s.get().upstreamSub(), s.get().upstreamIss())
                .request(meta).detail("user_id", s.get().userId()).build());
        return PageSupport.cookies(pages.page(request, t, 200, "login/signed-out", Map.of(), null),
                List.of(sessions.clearCookie(Sessions.Kind.ACCOUNT, t.id())));
    }

    /** The session, if the form's CSRF token is the session's; otherwise audits the refusal and returns empty. */
    private Optional<Session> checked(Tenant t, HttpRequest<?> request, Map<String, String> form, String type,
                                      RequestMeta meta) {
        String cookie = cookie(request);
        Optional<Session> s = sessions.find(Sessions.Kind.ACCOUNT, t.id(), cookie, clock.millis());
        String given = form.get("csrf");
        boolean ok = s.isPresent() && given != null && given.length() < 200
                && MessageDigest.isEqual(given.getBytes(StandardCharsets.UTF_8), csrf(cookie).getBytes(StandardCharsets.UTF_8));
        if (!ok) {
            AuditEvent.Builder ev = AuditEvent.of(t.id(), type, Outcome.FAILURE).request(meta);
            if (EventTypes.LOGOUT.equals(type)) {
                // logout entries carry no reason: the failure outcome says it
                s.ifPresent(x -> ev.subject(x.upstreamSub(), x.upstreamIss()).detail("user_id", x.userId()));
            } else {
                s.ifPresent(x -> ev.subject(x.upstreamSub(), x.upstreamIss()).detail("user_id", x.userId()));
                ev.detail("reason", s.isEmpty() ? "no_account_session" : "csrf_mismatch");
            }
            audit.append(ev.build());
            return Optional.empty();
        }
        return s;
    }

    /** The forms' CSRF token: derived from the session cookie (which scripts and other sites cannot read). */
    static String csrf(String cookie) {
        return cookie == null ? "" : ClientSecrets.sha256Hex("account-csrf:" + cookie);
    }

    private String cookie(HttpRequest<?> request) {
        return request.getCookies().findCookie(sessions.cookieName(Sessions.Kind.ACCOUNT)).map(Cookie::getValue).orElse(null);
    }

    private static String bounded(String v) {
        return v == null || v.isEmpty() || v.length() > 512 ? null : v;
    }

    private MutableHttpResponse<?> back(Tenant t) {
        return HttpResponse.status(HttpStatus.SEE_OTHER).header("Location", URI.create(publicUrl.issuer(t.id()) + "/account").toString())
                .header("Cache-Control", "no-store");
    }

    private MutableHttpResponse<?> forbidden(HttpRequest<?> request, Tenant t) {
        return pages.page(request, t, 403, "error", Map.of("titleKey", "error.cannot_continue",
                "messageKey", "error.account_form_expired"), request.getParameters().get("ui_locales"));
    }

    private MutableHttpResponse<?> notFound(HttpRequest<?> request, Tenant t) {
        return pages.page(request, t, 404, "error", Map.of("titleKey", "error.cannot_continue",
                "messageKey", "error.account_not_found"), request.getParameters().get("ui_locales"));
    }

    private Tenant tenant(String id) {
        return tenants.find(id).orElseThrow(() -> new UnknownTenantException(id));
    }
}
