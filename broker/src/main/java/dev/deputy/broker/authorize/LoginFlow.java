package dev.deputy.broker.authorize;

import com.nimbusds.oauth2.sdk.ErrorObject;
import com.nimbusds.oauth2.sdk.OAuth2Error;
import com.nimbusds.oauth2.sdk.util.URLUtils;
import dev.deputy.broker.agent.ClientSecrets;
import dev.deputy.broker.agent.OAuthClient;
import dev.deputy.broker.audit.AuditEvent;
import dev.deputy.broker.audit.AuditEvent.Outcome;
import dev.deputy.broker.audit.AuditLog;
import dev.deputy.broker.audit.RequestMeta;
import dev.deputy.broker.authorize.AuthorizeErrors.PageError;
import dev.deputy.broker.authorize.AuthorizeErrors.RedirectError;
import dev.deputy.broker.config.PublicUrl;
import dev.deputy.broker.ephemeral.EphemeralStore;
import dev.deputy.broker.federation.AuthRequest;
import dev.deputy.broker.federation.CookieSpec;
import dev.deputy.broker.federation.Json;
import dev.deputy.broker.federation.LoginState;
import dev.deputy.broker.federation.Session;
import dev.deputy.broker.federation.Sessions;
import dev.deputy.broker.federation.TenantConnectors;
import dev.deputy.broker.federation.User;
import dev.deputy.broker.federation.UserStore;
import dev.deputy.broker.federation.Users;
import dev.deputy.broker.tenant.Tenant;
import dev.deputy.connectors.ConnectorException;
import dev.deputy.connectors.ConnectorRegistry;
import dev.deputy.connectors.LoginRequest;
import dev.deputy.connectors.UpstreamConnector;
import dev.deputy.connectors.UpstreamIdentity;
import jakarta.inject.Singleton;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static dev.deputy.broker.authorize.Params.single;

/**
 * The authorization endpoint's entry (OAuth 2.1 §4.1) and the upstream login: home-realm discovery, the connector
 * chooser, the round trip to the upstream IdP and back ({@code /callback}), broker sessions, logout. The same
 * round trip signs users in to the account page ({@link #beginAccountLogin}), with a session of its own.
 *
 * <p>Error handling (OAuth 2.1 §4.1.2.1): while the client or the redirect URI is unknown or invalid the user sees a
 * page and is NEVER redirected; every later error goes back to the client's redirect URI with {@code error},
 * {@code error_description}, {@code state} and {@code iss} (RFC 9207 §2).
 */
@Singleton
public class LoginFlow {
    private static final Logger LOG = LoggerFactory.getLogger(LoginFlow.class);
    public static final Duration LOGIN_TTL = Duration.ofMinutes(10);

    private final AuthorizeRequestValidator validator;
    private final ConsentFlow consent;
    private final TenantConnectors connectors;
    private final Users users;
    private final UserStore userStore;
    private final Sessions sessions;
    private final EphemeralStore ephemeral;
    private final AuditLog audit;
    private final PublicUrl publicUrl;
    private final Clock clock = Clock.systemUTC();

    public LoginFlow(AuthorizeRequestValidator validator, ConsentFlow consent, TenantConnectors connectors, Users users,
                     UserStore userStore, Sessions sessions, EphemeralStore ephemeral, AuditLog audit, PublicUrl publicUrl) {
        this.validator = validator;
        this.consent = consent;
        this.connectors = connectors;
        this.users = users;
        this.userStore = userStore;
        this.sessions = sessions;
        this.ephemeral = ephemeral;
        this.audit = audit;
        this.publicUrl = publicUrl;
    }

    // ============================================================================ GET /t/{tenant}/authorize

    public AuthorizeOutcome authorize(Tenant tenant, Map<String, List<String>> params, String sessionCookie,
                                      RequestMeta meta) {
        String issuer = publicUrl.issuer(tenant.id());
        String clientId = single(params, "client_id");
        AuthorizeRequestValidator.Target target;
        try {
            target = validator.target(tenant, params);
        } catch (PageError e) {
            audit.append(AuditEvent.of(tenant.id(), "authorize.rejected", Outcome.FAILURE).client(clientId).request(meta)
                    .detail("error", "invalid_request").detail("reason", e.reason).build());
            return AuthorizeOutcome.Page.error(400, "error.cannot_sign_in", e.messageKey, List.of());
        }
        try {
            AuthRequest req = validator.validate(tenant, target, params);
            return proceed(tenant, target.client(), req, params, sessionCookie, meta);
        } catch (RedirectError e) {
            audit.append(AuditEvent.of(tenant.id(), "authorize.rejected", Outcome.FAILURE).client(clientId).request(meta)
                    .detail("error", e.error.getCode()).detail("reason", e.reason).build());
            return CodeIssuance.errorRedirect(target.redirectUri(), e.error, single(params, "state"), issuer, List.of());
        }
    }

    private AuthorizeOutcome proceed(Tenant tenant, OAuthClient client, AuthRequest req, Map<String, List<String>> params,
                                     String sessionCookie, RequestMeta meta) {
        long now = clock.millis();
        Optional<Session> session = "login".equals(req.prompt()) ? Optional.empty()
                : sessions.find(tenant.id(), sessionCookie, now);
        if (session.isPresent()) {
            return consent.afterLogin(tenant, client, req, session.get(), sessionCookie, meta, List.of());
        }
        // OIDC Core §3.1.2.1: prompt=none and no session → login_required
        if ("none".equals(req.prompt())) {
            throw new RedirectError(new ErrorObject("login_required"), "no session", "login_required");
        }
        UpstreamConnector connector = homeRealm(tenant, req.loginHint(), single(params, "connector"));
        if (connector == null) {
            Map<String, List<String>> base = new LinkedHashMap<>(params);
            base.remove("connector");
            return chooser(tenant, "/t/" + tenant.id() + "/authorize", base, req.loginHint(), req.uiLocales());
        }
        LoginRequest lr = begin(tenant, connector, req.loginHint());
        String binding = Sessions.random();
        LoginState ls = LoginState.of(req, tenant.id(), lr.pending(), ClientSecrets.sha256Hex(binding));
        ephemeral.put(loginKey(tenant.id(), lr.state()), Json.write(ls), LOGIN_TTL);
        audit.append(AuditEvent.of(tenant.id(), "login.started", Outcome.INFO).client(req.clientId()).resource(req.resource())
                .request(meta).detail("connector", connector.id()).build());
        return new AuthorizeOutcome.Redirect(lr.authorizationUri(), List.of(sessions.loginCookie(tenant.id(), binding, LOGIN_TTL)));
    }

    private LoginRequest begin(Tenant tenant, UpstreamConnector connector, String loginHint) {
        URI callback = URI.create(publicUrl.issuer(tenant.id()) + "/callback");
        try {
            return connector.beginLogin(callback, loginHint);
        } catch (ConnectorException e) {
            LOG.warn("tenant {}: connector {} cannot start a login: {}", tenant.id(), connector.id(), e.getMessage());
            throw new RedirectError(OAuth2Error.TEMPORARILY_UNAVAILABLE, "the identity provider is unavailable",
                    "upstream_" + e.code().wire());
        }
    }

    /**
     * Home-realm discovery: the chooser's pick, else the connector whose {@code domains} hold the e-mail domain of
     * {@code login_hint} (typed into the chooser's e-mail field, or sent by the client), else the tenant's default
     * connector, else the only enabled connector; null → show the chooser.
     */
    UpstreamConnector homeRealm(Tenant tenant, String loginHint, String picked) {
        ConnectorRegistry reg = connectors.registry(tenant.id());
        if (picked != null) {
            return reg.get(picked).orElseThrow(() -> new RedirectError(OAuth2Error.INVALID_REQUEST, "unknown connector",
                    "unknown_connector"));
        }
        if (loginHint != null) {
            Optional<UpstreamConnector> byDomain = reg.forEmail(loginHint);
            if (byDomain.isPresent()) {
                return byDomain.get();
            }
        }
        Optional<TenantConnectors.Entry> dflt = connectors.defaultConnector(tenant.id());
        if (dflt.isPresent()) {
            return dflt.get().connector();
        }
        if (reg.byId().isEmpty()) {
            throw new RedirectError(OAuth2Error.TEMPORARILY_UNAVAILABLE, "no identity provider is configured", "no_connector");
        }
        return reg.byId().size() == 1 ? reg.byId().values().iterator().next() : null;
    }

    /** A connector link of the chooser. */
    public record Choice(String id, String name, String href) {
    }

    /** The chooser: one link per enabled connector, and an e-mail field for home-realm discovery. */
    private AuthorizeOutcome chooser(Tenant tenant, String action, Map<String, List<String>> base, String loginHint,
                                     String uiLocales) {
        List<Choice> choices = new ArrayList<>();
        for (TenantConnectors.Entry e : connectors.list(tenant.id())) {
            if (!e.enabled()) {
                continue;
            }
            Map<String, List<String>> q = new LinkedHashMap<>(base);
            q.put("connector", List.of(e.id()));
            choices.add(new Choice(e.id(), e.displayName(), action + "?" + URLUtils.serializeParameters(q)));
        }
        // the e-mail form repeats the request's own parameters as hidden fields, login_hint from the field
        List<Map.Entry<String, String>> hidden = new ArrayList<>();
        base.forEach((k, vs) -> {
            if (!"login_hint".equals(k)) {
                vs.forEach(v -> hidden.add(Map.entry(k, v)));
            }
        });
        Map<String, Object> model = new LinkedHashMap<>();
        model.put("choices", choices);
        model.put("action", action);
        model.put("hidden", hidden);
        model.put("loginHint", loginHint);
        model.put("unknownDomain", loginHint != null);
        model.put("uiLocales", uiLocales);
        return new AuthorizeOutcome.Page(200, "login/chooser", model, List.of());
    }

    // ============================================================================ GET /t/{tenant}/account (signed out)

    /** Signs a user in to the account page through the tenant's connector (the same chooser and round trip). */
    public AuthorizeOutcome beginAccountLogin(Tenant tenant, Map<String, List<String>> params, RequestMeta meta) {
        String loginHint = single(params, "login_hint");
        UpstreamConnector connector;
        try {
            connector = homeRealm(tenant, loginHint, single(params, "connector"));
            if (connector == null) {
                Map<String, List<String>> base = new LinkedHashMap<>();
                String ui = single(params, "ui_locales");
                if (ui != null) {
                    base.put("ui_locales", List.of(ui));
                }
                return chooser(tenant, "/t/" + tenant.id() + "/account", base, loginHint, ui);
            }
            LoginRequest lr = begin(tenant, connector, loginHint);
            String binding = Sessions.random();
            LoginState ls = LoginState.forAccount(tenant.id(), lr.pending(), ClientSecrets.sha256Hex(binding));
            ephemeral.put(loginKey(tenant.id(), lr.state()), Json.write(ls), LOGIN_TTL);
            audit.append(AuditEvent.of(tenant.id(), "login.started", Outcome.INFO).request(meta)
                    .detail("connector", connector.id()).build());
            return new AuthorizeOutcome.Redirect(lr.authorizationUri(),
                    List.of(sessions.loginCookie(tenant.id(), binding, LOGIN_TTL)));
        } catch (RedirectError e) {
            audit.append(AuditEvent.of(tenant.id(), "login.failed", Outcome.FAILURE).request(meta)
                    .detail("reason", e.reason).build());
            return AuthorizeOutcome.Page.error(e.error.getHTTPStatusCode() == 503 ? 503 : 400, "error.cannot_sign_in",
                    "unknown_connector".equals(e.reason) ? "error.unknown_connector" : "error.upstream_unavailable", List.of());
        }
    }

    // ============================================================================ GET /t/{tenant}/callback

    public AuthorizeOutcome callback(Tenant tenant, Map<String, List<String>> params, String loginCookie, String sessionCookie,
                                     RequestMeta meta) {
        String issuer = publicUrl.issuer(tenant.id());
        String state = single(params, "state");
        List<CookieSpec> cookies = new ArrayList<>(List.of(sessions.clearLoginCookie(tenant.id())));
        Optional<LoginState> found = state == null || state.length() > 200 ? Optional.empty()
                : ephemeral.take(loginKey(tenant.id(), state)).map(v -> Json.read(v, LoginState.class));
        if (found.isEmpty()) {
            // RFC 6749 §10.12 / OIDC Core §3.1.2.7: unknown, reused or expired state
            audit.append(AuditEvent.of(tenant.id(), "login.failed", Outcome.FAILURE).request(meta)
                    .detail("reason", "state_mismatch").build());
            return AuthorizeOutcome.Page.error(400, "error.sign_in_failed", "error.state_invalid", cookies);
        }
        LoginState ls = found.get();
        AuthRequest req = ls.request();
        String clientId = req == null ? null : req.clientId();
        if (loginCookie == null || !ClientSecrets.sha256Hex(loginCookie).equals(ls.browserBinding())) {
            // login CSRF: the callback must arrive in the browser that started the login
            audit.append(AuditEvent.of(tenant.id(), "login.failed", Outcome.FAILURE).client(clientId).request(meta)
                    .detail("connector", ls.connectorId()).detail("reason", "state_mismatch")
                    .detail("detail", "browser binding cookie missing or different").build());
            return AuthorizeOutcome.Page.error(400, "error.sign_in_failed", "error.other_browser", cookies);
        }
        if (ls.forAccount()) {
            return accountCallback(tenant, ls, params, meta, cookies);
        }
        Optional<OAuthClient> client = validator.client(tenant, req.clientId());
        if (client.isEmpty()) {
            return AuthorizeOutcome.Page.error(400, "error.cannot_sign_in", "error.client_gone", cookies);
        }
        try {
            UpstreamIdentity who;
            try {
                who = complete(tenant, ls, params);
            } catch (ConnectorException e) {
                audit.append(AuditEvent.of(tenant.id(), "login.failed", Outcome.FAILURE).client(req.clientId())
                        .resource(req.resource()).request(meta).detail("connector", ls.connectorId())
                        .detail("reason", e.code().wire()).detail("detail", e.getMessage()).build());
                ErrorObject eo = upstreamUnavailable(e) ? OAuth2Error.TEMPORARILY_UNAVAILABLE : OAuth2Error.ACCESS_DENIED;
                return CodeIssuance.errorRedirect(req.redirectUri(), eo.setDescription("upstream login failed: " + e.code().wire()),
                        req.state(), issuer, cookies);
            }
            long now = clock.millis();
            User user = link(tenant, who, req.clientId(), req.resource(), meta, now);
            sessions.end(tenant.id(), sessionCookie);
            CookieSpec setCookie = sessions.start(user, epochMillis(who.claims().get("exp")), now);
            cookies.add(setCookie);
            Session s = sessions.find(tenant.id(), setCookie.value(), now).orElseThrow();
            return consent.afterLogin(tenant, client.get(), req, s, setCookie.value(), meta, cookies);
        } catch (RedirectError e) {
            audit.append(AuditEvent.of(tenant.id(), "authorize.rejected", Outcome.FAILURE).client(req.clientId()).request(meta)
                    .detail("error", e.error.getCode()).detail("reason", e.reason).build());
            return CodeIssuance.errorRedirect(req.redirectUri(), e.error, req.state(), issuer, cookies);
        }
    }

    private AuthorizeOutcome accountCallback(Tenant tenant, LoginState ls, Map<String, List<String>> params,
                                             RequestMeta meta, List<CookieSpec> cookies) {
        try {
            UpstreamIdentity who;
            try {
                who = complete(tenant, ls, params);
            } catch (ConnectorException e) {
                audit.append(AuditEvent.of(tenant.id(), "login.failed", Outcome.FAILURE).request(meta)
                        .detail("connector", ls.connectorId()).detail("reason", e.code().wire())
                        .detail("detail", e.getMessage()).build());
                return AuthorizeOutcome.Page.error(upstreamUnavailable(e) ? 503 : 400, "error.sign_in_failed",
                        upstreamUnavailable(e) ? "error.upstream_unavailable" : "error.upstream_refused", cookies);
            }
            long now = clock.millis();
            User user = link(tenant, who, null, null, meta, now);
            cookies.add(sessions.start(Sessions.Kind.ACCOUNT, user, epochMillis(who.claims().get("exp")), now));
            return new AuthorizeOutcome.Redirect(URI.create(publicUrl.issuer(tenant.id()) + "/account"), cookies);
        } catch (RedirectError e) {
            audit.append(AuditEvent.of(tenant.id(), "login.failed", Outcome.FAILURE).request(meta)
                    .detail("connector", ls.connectorId()).detail("reason", e.reason).build());
            return AuthorizeOutcome.Page.error(403, "error.sign_in_failed",
                    "user_suspended".equals(e.reason) ? "error.user_suspended" : "error.upstream_unavailable", cookies);
        }
    }

    private UpstreamIdentity complete(Tenant tenant, LoginState ls, Map<String, List<String>> params) {
        UpstreamConnector connector = connectors.registry(tenant.id()).get(ls.connectorId()).orElseThrow(
                () -> new RedirectError(OAuth2Error.TEMPORARILY_UNAVAILABLE, "the identity provider was disabled",
                        "connector_disabled"));
        return connector.completeLogin(params, ls.pending());
    }

    private static boolean upstreamUnavailable(ConnectorException e) {
        return e.code() == ConnectorException.Code.DISCOVERY_FAILED || e.code() == ConnectorException.Code.JWKS_UNAVAILABLE
                || e.code() == ConnectorException.Code.TOKEN_REQUEST_FAILED;
    }

    /** Links (or creates, just in time) the user; audits the creation and the login. Throws for a suspended user. */
    private User link(Tenant tenant, UpstreamIdentity who, String clientId, String resource, RequestMeta meta, long now) {
        boolean existed = userStore.findLinked(tenant.id(), who.connectorId(), who.issuer(), who.subject()).isPresent();
        User user = users.link(tenant.id(), who, now);
        if (!existed) {
            audit.append(AuditEvent.of(tenant.id(), "user.created", Outcome.SUCCESS).subject(who.subject(), who.issuer())
                    .request(meta).detail("user_id", user.id()).detail("connector", who.connectorId()).build());
        }
        if (!user.active()) {
            throw new RedirectError(OAuth2Error.ACCESS_DENIED, "the user is suspended", "user_suspended");
        }
        audit.append(AuditEvent.of(tenant.id(), "login.succeeded", Outcome.SUCCESS).subject(who.subject(), who.issuer())
                .client(clientId).resource(resource).request(meta).detail("user_id", user.id())
                .detail("connector", who.connectorId()).detail("groups_overage", who.groupsOverage() ? true : null)
                .build());
        return user;
    }

    static Long epochMillis(Object exp) {
        if (exp instanceof Date d) {
            return d.getTime();
        }
        if (exp instanceof Number n) {
            return n.longValue() * 1000;
        }
        if (exp instanceof java.time.Instant i) {
            return i.toEpochMilli();
        }
        return null;
    }

    // ============================================================================ logout

    public AuthorizeOutcome logout(Tenant tenant, String sessionCookie, RequestMeta meta) {
        Optional<Session> s = sessions.find(tenant.id(), sessionCookie, clock.millis());
        sessions.end(tenant.id(), sessionCookie);
        s.ifPresent(session -> audit.append(AuditEvent.of(tenant.id(), "logout", Outcome.SUCCESS)
                .subject(session.upstreamSub(), session.upstreamIss()).request(meta).detail("user_id", session.userId()).build()));
        return new AuthorizeOutcome.Page(200, "login/signed-out", Map.of(), List.of(sessions.clearCookie(tenant.id())));
    }

    private static String loginKey(String tenantId, String state) {
        return "login:" + tenantId + ":" + ClientSecrets.sha256Hex(state);
    }
}
