package dev.deputy.broker.authorize;

import com.nimbusds.oauth2.sdk.AuthorizationRequest;
import com.nimbusds.oauth2.sdk.ErrorObject;
import com.nimbusds.oauth2.sdk.OAuth2Error;
import com.nimbusds.oauth2.sdk.ParseException;
import com.nimbusds.oauth2.sdk.ResponseType;
import com.nimbusds.oauth2.sdk.pkce.CodeChallengeMethod;
import com.nimbusds.oauth2.sdk.util.URLUtils;
import dev.deputy.broker.agent.AgentStore;
import dev.deputy.broker.agent.ClientSecrets;
import dev.deputy.broker.agent.OAuthClient;
import dev.deputy.broker.agent.Resource;
import dev.deputy.broker.audit.AuditEvent;
import dev.deputy.broker.audit.AuditEvent.Outcome;
import dev.deputy.broker.audit.AuditLog;
import dev.deputy.broker.audit.AuditTransactions;
import dev.deputy.broker.audit.EventTypes;
import dev.deputy.broker.audit.RequestMeta;
import dev.deputy.broker.config.PublicUrl;
import dev.deputy.broker.ephemeral.EphemeralStore;
import dev.deputy.broker.federation.AuthRequest;
import dev.deputy.broker.federation.AuthorizationCodes;
import dev.deputy.broker.federation.CodeGrant;
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

/**
 * The authorization endpoint (OAuth 2.1 §4.1) for MCP clients, home-realm discovery, the upstream round
 * trip, sessions and consent. Controllers hand it raw parameters and cookies and render what it returns.
 *
 * <p>Error handling (OAuth 2.1 §4.1.2.1): while the client or the redirect URI is unknown or invalid the
 * user sees a page and is NEVER redirected; every later error goes back to the client's redirect URI with
 * {@code error}, {@code error_description}, {@code state} and {@code iss} (RFC 9207 §2).
 */
@Singleton
public class AuthorizationService {
    private static final Logger LOG = LoggerFactory.getLogger(AuthorizationService.class);
    public static final Duration LOGIN_TTL = Duration.ofMinutes(10);
    private static final Duration CONSENT_TTL = Duration.ofMinutes(10);

    private final RegisteredClients clients;
    private final AgentStore agents;
    private final TenantConnectors connectors;
    private final Users users;
    private final UserStore userStore;
    private final Sessions sessions;
    private final AuthorizationCodes codes;
    private final ConsentStore consents;
    private final Scopes scopes;
    private final EphemeralStore ephemeral;
    private final AuditLog audit;
    private final AuditTransactions audited;
    private final PublicUrl publicUrl;
    private final Clock clock = Clock.systemUTC();

    public AuthorizationService(RegisteredClients clients, AgentStore agents, TenantConnectors connectors, Users users,
                                UserStore userStore, Sessions sessions, AuthorizationCodes codes, ConsentStore consents,
                                Scopes scopes, EphemeralStore ephemeral, AuditLog audit, AuditTransactions audited,
                                PublicUrl publicUrl) {
        this.clients = clients;
        this.agents = agents;
        this.connectors = connectors;
        this.users = users;
        this.userStore = userStore;
        this.sessions = sessions;
        this.codes = codes;
        this.consents = consents;
        this.scopes = scopes;
        this.ephemeral = ephemeral;
        this.audit = audit;
        this.audited = audited;
        this.publicUrl = publicUrl;
    }

    /** A request that cannot go back to the client: shown as a page. */
    private static final class PageError extends RuntimeException {
        final String reason;

        PageError(String reason, String message) {
            super(message, null, false, false);
            this.reason = reason;
        }
    }

    /** An error that goes back to the client's redirect URI. */
    private static final class RedirectError extends RuntimeException {
        final ErrorObject error;
        final String reason;

        RedirectError(ErrorObject error, String description, String reason) {
            super(description, null, false, false);
            this.error = error.setDescription(description);
            this.reason = reason;
        }
    }

    // ============================================================================ GET /t/{tenant}/authorize

    public AuthorizeOutcome authorize(Tenant tenant, Map<String, List<String>> params, String sessionCookie,
                                      RequestMeta meta) {
        String issuer = publicUrl.issuer(tenant.id());
        String clientId = single(params, "client_id");
        String redirectParam = single(params, "redirect_uri");
        String state = single(params, "state");
        OAuthClient client;
        String redirectUri;
        try {
            // OAuth 2.1 §4.1.2.1: the client and redirect URI are checked first; if either is bad, do not redirect
            if (clientId == null) {
                throw new PageError("missing_client_id", "The request has no client_id.");
            }
            client = clients.find(tenant.id(), clientId).orElseThrow(
                    () -> new PageError("unknown_client", "The application (client_id) is not registered with this tenant."));
            if (redirectParam == null) {
                // OAuth 2.1 §2.3.2: redirect_uri may be omitted only when exactly one (fixed) URI is registered
                if (client.redirectUris().size() != 1) {
                    throw new PageError("missing_redirect_uri", "The request has no redirect_uri.");
                }
                redirectUri = client.redirectUris().get(0);
            } else if (!client.redirectAllowed(redirectParam)) {
                // RFC 9700 §4.1.3 / OAuth 2.1 §4.1.1: exact match against the registered redirect URIs
                throw new PageError("redirect_uri_mismatch", "The redirect_uri is not registered for this application.");
            } else {
                redirectUri = redirectParam;
            }
        } catch (PageError e) {
            audit(AuditEvent.of(tenant.id(), "authorize.rejected", Outcome.FAILURE).client(clientId).request(meta)
                    .detail("error", "invalid_request").detail("reason", e.reason).build());
            return new AuthorizeOutcome.Page(400, Html.error("Cannot sign in", e.getMessage()), List.of());
        }
        try {
            AuthRequest req = validate(tenant, client, redirectUri, redirectParam != null, params);
            return proceed(tenant, client, req, params, sessionCookie, meta, List.of());
        } catch (RedirectError e) {
            audit(AuditEvent.of(tenant.id(), "authorize.rejected", Outcome.FAILURE).client(clientId).request(meta)
                    .detail("error", e.error.getCode()).detail("reason", e.reason).build());
            return errorRedirect(redirectUri, e.error, state, issuer, List.of());
        }
    }

    private AuthRequest validate(Tenant tenant, OAuthClient client, String redirectUri, boolean given,
                                 Map<String, List<String>> params) {
        for (Map.Entry<String, List<String>> p : params.entrySet()) {
            // OAuth 2.1 §3.1: request and response parameters MUST NOT be included more than once
            if (p.getValue().size() > 1 && !"resource".equals(p.getKey())) {
                throw new RedirectError(OAuth2Error.INVALID_REQUEST, "parameter " + p.getKey() + " repeated", "repeated_parameter");
            }
        }
        if (params.containsKey("request")) {
            throw new RedirectError(OAuth2Error.REQUEST_NOT_SUPPORTED, "request objects are not supported", "request_object");
        }
        if (params.containsKey("request_uri")) {
            throw new RedirectError(OAuth2Error.REQUEST_URI_NOT_SUPPORTED, "request_uri is not supported", "request_uri");
        }
        AuthorizationRequest ar;
        try {
            ar = AuthorizationRequest.parse(params);
        } catch (ParseException e) {
            ErrorObject eo = e.getErrorObject() != null ? e.getErrorObject() : OAuth2Error.INVALID_REQUEST;
            throw new RedirectError(eo, e.getMessage(), "unparseable");
        }
        // OAuth 2.1 §4.1.1: response_type "code" only
        if (!new ResponseType(ResponseType.Value.CODE).equals(ar.getResponseType())) {
            throw new RedirectError(OAuth2Error.UNSUPPORTED_RESPONSE_TYPE, "only response_type=code is supported",
                    "unsupported_response_type");
        }
        if (ar.getResponseMode() != null && !"query".equals(ar.getResponseMode().getValue())) {
            throw new RedirectError(OAuth2Error.INVALID_REQUEST, "only response_mode=query is supported", "response_mode");
        }
        // OAuth 2.1 §4.1.1 / RFC 7636 §4.4.1: code_challenge REQUIRED; S256 only, plain refused
        if (ar.getCodeChallenge() == null) {
            throw new RedirectError(OAuth2Error.INVALID_REQUEST, "code_challenge required (PKCE S256)", "pkce_missing");
        }
        if (!CodeChallengeMethod.S256.equals(ar.getCodeChallengeMethod())) {
            throw new RedirectError(OAuth2Error.INVALID_REQUEST, "code_challenge_method must be S256", "pkce_method");
        }
        String challenge = ar.getCodeChallenge().getValue();
        // RFC 7636 §4.2: BASE64URL(SHA256(verifier)) = 43 characters
        if (!challenge.matches("[A-Za-z0-9_-]{43}")) {
            throw new RedirectError(OAuth2Error.INVALID_REQUEST, "malformed code_challenge", "pkce_malformed");
        }
        Resource resource = resource(tenant, params.getOrDefault("resource", List.of()));
        List<String> requested = ar.getScope() == null ? List.of() : ar.getScope().toStringList();
        String loginHint = single(params, "login_hint");
        String prompt = single(params, "prompt");
        // on-behalf-of: the client names the agent that will act for the user; it must be an active agent
        String actor = single(params, "requested_actor");
        if (actor != null && agents.findAgent(tenant.id(), actor).filter(dev.deputy.broker.agent.Agent::active).isEmpty()) {
            throw new RedirectError(OAuth2Error.INVALID_REQUEST, "requested_actor is not an active agent", "unknown_actor");
        }
        // RFC 6749 §4.1.2: state goes back exactly as received (Nimbus's State trims, so the raw value is kept)
        return new AuthRequest(client.clientId(), redirectUri, given, single(params, "state"),
                challenge, requested, Resource.canonical(resource.uri()), resource.id(), loginHint, prompt, actor);
    }

    /** RFC 8707 §2: one absolute resource, registered with the tenant; none → the tenant's default resource. */
    private Resource resource(Tenant tenant, List<String> values) {
        try {
            return dev.deputy.broker.agent.ResourceIndicators.resolve(agents.listResources(tenant.id()), values, null);
        } catch (dev.deputy.broker.agent.ResourceIndicators.Refused e) {
            throw new RedirectError(OAuth2Error.INVALID_TARGET, e.getMessage(), e.reason());
        }
    }

    private AuthorizeOutcome proceed(Tenant tenant, OAuthClient client, AuthRequest req, Map<String, List<String>> params,
                                     String sessionCookie, RequestMeta meta, List<String> cookies) {
        long now = clock.millis();
        Optional<Session> session = "login".equals(req.prompt()) ? Optional.empty()
                : sessions.find(tenant.id(), sessionCookie, now);
        if (session.isPresent()) {
            return afterLogin(tenant, client, req, session.get(), sessionCookie, meta, cookies);
        }
        // OIDC Core §3.1.2.1: prompt=none and no session → login_required
        if ("none".equals(req.prompt())) {
            throw new RedirectError(new ErrorObject("login_required"), "no session", "login_required");
        }
        UpstreamConnector connector = homeRealm(tenant, req, single(params, "connector"));
        if (connector == null) {
            return chooser(tenant, params);
        }
        URI callback = URI.create(publicUrl.issuer(tenant.id()) + "/callback");
        LoginRequest lr;
        try {
            lr = connector.beginLogin(callback, req.loginHint());
        } catch (ConnectorException e) {
            LOG.warn("tenant {}: connector {} cannot start a login: {}", tenant.id(), connector.id(), e.getMessage());
            throw new RedirectError(OAuth2Error.TEMPORARILY_UNAVAILABLE, "the identity provider is unavailable",
                    "upstream_" + e.code().wire());
        }
        String binding = Sessions.random();
        LoginState ls = LoginState.of(req, tenant.id(), lr.pending(), ClientSecrets.sha256Hex(binding));
        ephemeral.put(loginKey(tenant.id(), lr.state()), Json.write(ls), LOGIN_TTL);
        audit(AuditEvent.of(tenant.id(), "login.started", Outcome.INFO).client(req.clientId()).resource(req.resource())
                .request(meta).detail("connector", connector.id()).build());
        List<String> out = new ArrayList<>(cookies);
        out.add(sessions.loginCookie(tenant.id(), binding, LOGIN_TTL));
        return new AuthorizeOutcome.Redirect(lr.authorizationUri().toString(), out);
    }

    /**
     * Home-realm discovery: the chooser's pick, else the connector owning the login_hint's email domain, else
     * the tenant's default connector, else the only enabled connector; null → show the chooser.
     */
    UpstreamConnector homeRealm(Tenant tenant, AuthRequest req, String picked) {
        ConnectorRegistry reg = connectors.registry(tenant.id());
        if (picked != null) {
            return reg.get(picked).orElseThrow(() -> new RedirectError(OAuth2Error.INVALID_REQUEST, "unknown connector",
                    "unknown_connector"));
        }
        if (req.loginHint() != null) {
            Optional<UpstreamConnector> byDomain = reg.forEmail(req.loginHint());
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

    private AuthorizeOutcome chooser(Tenant tenant, Map<String, List<String>> params) {
        Map<String, List<String>> base = new LinkedHashMap<>(params);
        base.remove("connector");
        StringBuilder b = new StringBuilder("<p>Choose how to sign in:</p><ul>");
        for (TenantConnectors.Entry e : connectors.list(tenant.id())) {
            if (!e.enabled()) {
                continue;
            }
            Map<String, List<String>> q = new LinkedHashMap<>(base);
            q.put("connector", List.of(e.id()));
            String href = "/t/" + tenant.id() + "/authorize?" + URLUtils.serializeParameters(q);
            b.append("<li><a class=\"btn\" href=\"").append(Html.esc(href)).append("\">")
                    .append(Html.esc(e.displayName())).append("</a></li>");
        }
        b.append("</ul>");
        return new AuthorizeOutcome.Page(200, Html.page("Sign in to " + tenant.displayName(), b.toString()), List.of());
    }

    // ============================================================================ GET /t/{tenant}/callback

    public AuthorizeOutcome callback(Tenant tenant, Map<String, List<String>> params, String loginCookie, String sessionCookie,
                                     RequestMeta meta) {
        String issuer = publicUrl.issuer(tenant.id());
        String state = single(params, "state");
        List<String> cookies = new ArrayList<>(List.of(sessions.clearLoginCookie(tenant.id())));
        Optional<LoginState> found = state == null || state.length() > 200 ? Optional.empty()
                : ephemeral.take(loginKey(tenant.id(), state)).map(v -> Json.read(v, LoginState.class));
        if (found.isEmpty()) {
            // RFC 6749 §10.12 / OIDC Core §3.1.2.7: unknown, reused or expired state
            audit(AuditEvent.of(tenant.id(), "login.failed", Outcome.FAILURE).request(meta)
                    .detail("reason", "state_mismatch").build());
            return new AuthorizeOutcome.Page(400, Html.error("Sign-in failed",
                    "This sign-in link is invalid, was already used, or has expired. Start again from the application."), cookies);
        }
        LoginState ls = found.get();
        AuthRequest req = ls.request();
        if (loginCookie == null || !ClientSecrets.sha256Hex(loginCookie).equals(ls.browserBinding())) {
            // login CSRF: the callback must arrive in the browser that started the login
            audit(AuditEvent.of(tenant.id(), "login.failed", Outcome.FAILURE).client(req.clientId()).request(meta)
                    .detail("connector", ls.connectorId()).detail("reason", "state_mismatch")
                    .detail("detail", "browser binding cookie missing or different").build());
            return new AuthorizeOutcome.Page(400, Html.error("Sign-in failed",
                    "This sign-in was started in another browser. Start again from the application."), cookies);
        }
        Optional<OAuthClient> client = clients.find(tenant.id(), req.clientId());
        if (client.isEmpty()) {
            return new AuthorizeOutcome.Page(400, Html.error("Cannot sign in", "The application is no longer registered."), cookies);
        }
        try {
            UpstreamConnector connector = connectors.registry(tenant.id()).get(ls.connectorId()).orElseThrow(
                    () -> new RedirectError(OAuth2Error.TEMPORARILY_UNAVAILABLE, "the identity provider was disabled",
                            "connector_disabled"));
            UpstreamIdentity who;
            try {
                who = connector.completeLogin(params, ls.pending());
            } catch (ConnectorException e) {
                audit(AuditEvent.of(tenant.id(), "login.failed", Outcome.FAILURE).client(req.clientId())
                        .resource(req.resource()).request(meta).detail("connector", ls.connectorId())
                        .detail("reason", e.code().wire()).detail("detail", e.getMessage()).build());
                ErrorObject eo = e.code() == ConnectorException.Code.DISCOVERY_FAILED
                        || e.code() == ConnectorException.Code.JWKS_UNAVAILABLE
                        || e.code() == ConnectorException.Code.TOKEN_REQUEST_FAILED
                        ? OAuth2Error.TEMPORARILY_UNAVAILABLE : OAuth2Error.ACCESS_DENIED;
                return errorRedirect(req.redirectUri(), eo.setDescription("upstream login failed: " + e.code().wire()),
                        req.state(), issuer, cookies);
            }
            long now = clock.millis();
            boolean existed = userStore.findLinked(tenant.id(), who.connectorId(), who.issuer(), who.subject()).isPresent();
            User user = users.link(tenant.id(), who, now);
            if (!existed) {
                audit(AuditEvent.of(tenant.id(), "user.created", Outcome.SUCCESS).subject(who.subject(), who.issuer())
                        .request(meta).detail("user_id", user.id()).detail("connector", who.connectorId()).build());
            }
            if (!user.active()) {
                throw new RedirectError(OAuth2Error.ACCESS_DENIED, "the user is suspended", "user_suspended");
            }
            audit(AuditEvent.of(tenant.id(), "login.succeeded", Outcome.SUCCESS).subject(who.subject(), who.issuer())
                    .client(req.clientId()).resource(req.resource()).request(meta).detail("user_id", user.id())
                    .detail("connector", who.connectorId()).detail("groups_overage", who.groupsOverage() ? true : null)
                    .build());
            sessions.end(tenant.id(), sessionCookie);
            String setCookie = sessions.start(user, epochMillis(who.claims().get("exp")), now);
            cookies.add(setCookie);
            String cookieValue = setCookie.substring(setCookie.indexOf('=') + 1, setCookie.indexOf(';'));
            Session s = sessions.find(tenant.id(), cookieValue, now).orElseThrow();
            return afterLogin(tenant, client.get(), req, s, cookieValue, meta, cookies);
        } catch (RedirectError e) {
            audit(AuditEvent.of(tenant.id(), "authorize.rejected", Outcome.FAILURE).client(req.clientId()).request(meta)
                    .detail("error", e.error.getCode()).detail("reason", e.reason).build());
            return errorRedirect(req.redirectUri(), e.error, req.state(), issuer, cookies);
        }
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

    // ============================================================================ after login: consent, code

    /** Consent that must be confirmed by the form (ephemeral, keyed by the hash of the CSRF token). */
    public record PendingConsent(AuthRequest request, String userId, List<String> scopes, String sessionHandle) {
    }

    private AuthorizeOutcome afterLogin(Tenant tenant, OAuthClient client, AuthRequest req, Session session,
                                        String sessionCookie, RequestMeta meta, List<String> cookies) {
        User user = userStore.find(tenant.id(), session.userId()).orElseThrow(
                () -> new RedirectError(OAuth2Error.ACCESS_DENIED, "unknown user", "unknown_user"));
        if (!user.active()) {
            throw new RedirectError(OAuth2Error.ACCESS_DENIED, "the user is suspended", "user_suspended");
        }
        Resource resource = agents.listResources(tenant.id()).stream().filter(r -> r.id().equals(req.resourceId()))
                .findFirst().orElseThrow(() -> new RedirectError(OAuth2Error.INVALID_TARGET, "unknown resource", "unknown_resource"));
        List<String> granted = scopes.forUser(tenant.id(), user.roles(), resource, req.scopes());
        if (!req.scopes().isEmpty() && granted.isEmpty()) {
            // RFC 6749 §4.1.2.1 invalid_scope: nothing requested is allowed for this user and resource
            throw new RedirectError(OAuth2Error.INVALID_SCOPE, "none of the requested scopes is allowed", "no_allowed_scope");
        }
        if (!client.internal()) {
            Optional<Consent> c = consents.find(tenant.id(), user.id(), client.clientId(), resource.id());
            boolean covered = c.isPresent() && c.get().scopes().containsAll(granted);
            // an external client acting through an agent is asked every time, naming the agent
            if (!covered || "consent".equals(req.prompt()) || req.requestedActor() != null) {
                if ("none".equals(req.prompt())) {
                    throw new RedirectError(new ErrorObject("consent_required"), "consent required", "consent_required");
                }
                return consentPage(tenant, client, req, user, resource, granted, sessionCookie, cookies);
            }
        }
        return issueCode(tenant, req, session, granted, meta, cookies);
    }

    private AuthorizeOutcome consentPage(Tenant tenant, OAuthClient client, AuthRequest req, User user, Resource resource,
                                         List<String> granted, String sessionCookie, List<String> cookies) {
        String csrf = Sessions.random();
        PendingConsent pc = new PendingConsent(req, user.id(), granted, Sessions.handle(sessionCookie));
        ephemeral.put(consentKey(tenant.id(), csrf), Json.write(pc), CONSENT_TTL);
        String host = URI.create(req.redirectUri()).getHost();
        StringBuilder b = new StringBuilder();
        b.append("<p><strong>").append(Html.esc(client.name())).append("</strong> (<code>")
                .append(Html.esc(client.clientId())).append("</code>) wants to act on your behalf.</p>")
                .append("<p>It will return to <code>").append(Html.esc(host == null ? req.redirectUri() : host))
                .append("</code>.</p><p>Resource: <strong>").append(Html.esc(resource.name())).append("</strong> <code>")
                .append(Html.esc(req.resource())).append("</code></p>");
        if (req.requestedActor() != null) {
            b.append("<p>It will act through the agent <strong><code>").append(Html.esc(req.requestedActor()))
                    .append("</code></strong>, which will be named in every token as the actor.</p>");
        }
        if (granted.isEmpty()) {
            b.append("<p>Scopes: none.</p>");
        } else {
            b.append("<p>Scopes:</p><ul>");
            granted.forEach(s -> b.append("<li><code>").append(Html.esc(s)).append("</code></li>"));
            b.append("</ul>");
        }
        b.append("<p>Signed in as ").append(Html.esc(user.email() != null ? user.email() : user.upstreamSub())).append(".</p>")
                .append("<form method=\"post\" action=\"/t/").append(Html.esc(tenant.id())).append("/consent\">")
                .append("<input type=\"hidden\" name=\"csrf\" value=\"").append(Html.esc(csrf)).append("\">")
                .append("<button type=\"submit\" name=\"decision\" value=\"allow\">Allow</button>")
                .append("<button type=\"submit\" name=\"decision\" value=\"deny\">Deny</button></form>");
        return new AuthorizeOutcome.Page(200, Html.page("Allow access?", b.toString()), cookies);
    }

    // ============================================================================ POST /t/{tenant}/consent

    public AuthorizeOutcome consent(Tenant tenant, Map<String, String> form, String sessionCookie, RequestMeta meta) {
        String issuer = publicUrl.issuer(tenant.id());
        String csrf = form.get("csrf");
        Optional<PendingConsent> found = csrf == null || csrf.length() > 100 ? Optional.empty()
                : ephemeral.take(consentKey(tenant.id(), csrf)).map(v -> Json.read(v, PendingConsent.class));
        long now = clock.millis();
        Optional<Session> session = sessions.find(tenant.id(), sessionCookie, now);
        if (found.isEmpty() || session.isEmpty() || !found.get().sessionHandle().equals(Sessions.handle(sessionCookie))
                || !session.get().userId().equals(found.get().userId())) {
            audit(AuditEvent.of(tenant.id(), "consent.denied", Outcome.FAILURE).request(meta)
                    .detail("reason", "csrf_or_session_mismatch").build());
            return new AuthorizeOutcome.Page(400, Html.error("Cannot continue",
                    "This consent form is invalid or has expired. Start again from the application."), List.of());
        }
        PendingConsent pc = found.get();
        AuthRequest req = pc.request();
        Session s = session.get();
        AuditEvent.Builder ev = AuditEvent.of(tenant.id(), "allow".equals(form.get("decision")) ? "consent.granted"
                        : "consent.denied", "allow".equals(form.get("decision")) ? Outcome.ALLOW : Outcome.DENY)
                .subject(s.upstreamSub(), s.upstreamIss()).client(req.clientId()).resource(req.resource())
                .scopes(String.join(" ", pc.scopes())).request(meta).detail("user_id", s.userId());
        if (!"allow".equals(form.get("decision"))) {
            audit(ev.build());
            return errorRedirect(req.redirectUri(), OAuth2Error.ACCESS_DENIED.setDescription("the user denied access"),
                    req.state(), issuer, List.of());
        }
        // the stored consent and its entry commit together (the code issued next lives in the ephemeral store)
        audited.run(tenant.id(), tx -> {
            consents.save(new Consent(tenant.id(), s.userId(), req.clientId(), req.resourceId(), pc.scopes(), now));
            return tx.append(ev.build());
        });
        try {
            return issueCode(tenant, req, s, pc.scopes(), meta, List.of());
        } catch (RedirectError e) {
            return errorRedirect(req.redirectUri(), e.error, req.state(), issuer, List.of());
        }
    }

    /** Revokes a stored consent (admin API); the next authorization asks again. */
    public boolean revokeConsent(String tenantId, String userId, String clientId, String resourceId, RequestMeta meta) {
        return audited.run(tenantId, tx -> {
            boolean removed = consents.delete(tenantId, userId, clientId, resourceId);
            if (removed) {
                tx.append(AuditEvent.of(tenantId, EventTypes.CONSENT_REVOKED, Outcome.SUCCESS).client(clientId)
                        .request(meta).detail("user_id", userId).detail("resource_id", resourceId).build());
            }
            return removed;
        });
    }

    private AuthorizeOutcome issueCode(Tenant tenant, AuthRequest req, Session s, List<String> granted, RequestMeta meta,
                                       List<String> cookies) {
        Map<String, Object> claims = new LinkedHashMap<>();
        if (s.email() != null) {
            claims.put("email", s.email());
        }
        if (s.name() != null) {
            claims.put("name", s.name());
        }
        if (!s.groups().isEmpty()) {
            claims.put("groups", s.groups());
        }
        CodeGrant g = new CodeGrant(tenant.id(), req.clientId(), req.redirectUri(), req.redirectUriGiven(),
                req.codeChallenge(), req.resource(), s.userId(), s.upstreamSub(), s.upstreamIss(), granted, claims,
                s.authTime(), "fam_" + Sessions.random().substring(0, 26), req.requestedActor());
        String code = codes.issue(g);
        audit(AuditEvent.of(tenant.id(), "authorize.code_issued", Outcome.SUCCESS).subject(s.upstreamSub(), s.upstreamIss())
                .client(req.clientId()).resource(req.resource()).scopes(String.join(" ", granted)).request(meta)
                .detail("user_id", s.userId()).build());
        Map<String, List<String>> p = new LinkedHashMap<>();
        p.put("code", List.of(code));
        if (req.state() != null) {
            p.put("state", List.of(req.state()));
        }
        p.put("iss", List.of(publicUrl.issuer(tenant.id())));
        return new AuthorizeOutcome.Redirect(append(req.redirectUri(), p), cookies);
    }

    // ============================================================================ logout

    public AuthorizeOutcome logout(Tenant tenant, String sessionCookie, RequestMeta meta) {
        Optional<Session> s = sessions.find(tenant.id(), sessionCookie, clock.millis());
        sessions.end(tenant.id(), sessionCookie);
        s.ifPresent(session -> audit(AuditEvent.of(tenant.id(), "logout", Outcome.SUCCESS)
                .subject(session.upstreamSub(), session.upstreamIss()).request(meta).detail("user_id", session.userId()).build()));
        return new AuthorizeOutcome.Page(200, Html.page("Signed out", "<p>You are signed out of this tenant.</p>"),
                List.of(sessions.clearCookie(tenant.id())));
    }

    // ============================================================================ helpers

    /** RFC 6749 §4.1.2.1 + RFC 9207 §2: error, error_description, state and iss on the client's redirect URI. */
    static AuthorizeOutcome errorRedirect(String redirectUri, ErrorObject error, String state, String issuer,
                                          List<String> cookies) {
        Map<String, List<String>> p = new LinkedHashMap<>();
        p.put("error", List.of(error.getCode()));
        if (error.getDescription() != null) {
            p.put("error_description", List.of(error.getDescription().replaceAll("[^\\x20-\\x21\\x23-\\x5B\\x5D-\\x7E]", "_")));
        }
        if (state != null) {
            p.put("state", List.of(state));
        }
        p.put("iss", List.of(issuer));
        return new AuthorizeOutcome.Redirect(append(redirectUri, p), cookies);
    }

    /** RFC 6749 §3.1.2: the redirect URI's own query is retained. */
    static String append(String uri, Map<String, List<String>> params) {
        return uri + (uri.contains("?") ? "&" : "?") + URLUtils.serializeParameters(params);
    }

    private static String single(Map<String, List<String>> params, String name) {
        List<String> v = params.get(name);
        return v == null || v.isEmpty() || v.get(0) == null || v.get(0).isEmpty() ? null : v.get(0);
    }

    private static String loginKey(String tenantId, String state) {
        return "login:" + tenantId + ":" + ClientSecrets.sha256Hex(state);
    }

    private static String consentKey(String tenantId, String csrf) {
        return "consent:" + tenantId + ":" + ClientSecrets.sha256Hex(csrf);
    }

    private void audit(AuditEvent e) {
        audit.append(e);
    }
}
