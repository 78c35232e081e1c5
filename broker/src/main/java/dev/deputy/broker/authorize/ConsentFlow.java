package dev.deputy.broker.authorize;

import com.nimbusds.oauth2.sdk.ErrorObject;
import com.nimbusds.oauth2.sdk.OAuth2Error;
import dev.deputy.broker.agent.AgentStore;
import dev.deputy.broker.agent.ClientSecrets;
import dev.deputy.broker.agent.OAuthClient;
import dev.deputy.broker.agent.Resource;
import dev.deputy.broker.audit.AuditEvent;
import dev.deputy.broker.audit.AuditEvent.Outcome;
import dev.deputy.broker.audit.AuditLog;
import dev.deputy.broker.audit.AuditTransactions;
import dev.deputy.broker.audit.RequestMeta;
import dev.deputy.broker.authorize.AuthorizeErrors.RedirectError;
import dev.deputy.broker.config.PublicUrl;
import dev.deputy.broker.ephemeral.EphemeralStore;
import dev.deputy.broker.federation.AuthRequest;
import dev.deputy.broker.federation.CookieSpec;
import dev.deputy.broker.federation.Json;
import dev.deputy.broker.federation.Session;
import dev.deputy.broker.federation.Sessions;
import dev.deputy.broker.federation.User;
import dev.deputy.broker.federation.UserStore;
import dev.deputy.broker.tenant.Tenant;
import jakarta.inject.Singleton;

import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * After the user is known: which scopes they get, whether an external client needs their consent, the consent
 * page and its form (single-use CSRF token bound to the session), then the code.
 */
@Singleton
public class ConsentFlow {
    private static final Duration CONSENT_TTL = Duration.ofMinutes(10);

    private final AgentStore agents;
    private final UserStore userStore;
    private final Sessions sessions;
    private final ConsentStore consents;
    private final Scopes scopes;
    private final ScopeDescriptions descriptions;
    private final EphemeralStore ephemeral;
    private final AuditLog audit;
    private final AuditTransactions audited;
    private final CodeIssuance codes;
    private final PublicUrl publicUrl;
    private final Clock clock = Clock.systemUTC();

    public ConsentFlow(AgentStore agents, UserStore userStore, Sessions sessions, ConsentStore consents, Scopes scopes,
                       ScopeDescriptions descriptions, EphemeralStore ephemeral, AuditLog audit,
                       AuditTransactions audited, CodeIssuance codes, PublicUrl publicUrl) {
        this.agents = agents;
        this.userStore = userStore;
        this.sessions = sessions;
        this.consents = consents;
        this.scopes = scopes;
        this.descriptions = descriptions;
        this.ephemeral = ephemeral;
        this.audit = audit;
        this.audited = audited;
        this.codes = codes;
        this.publicUrl = publicUrl;
    }

    /** Consent that must be confirmed by the form (ephemeral, keyed by the hash of the CSRF token). */
    public record PendingConsent(AuthRequest request, String userId, List<String> scopes, String sessionHandle) {
    }

    /** The user has a session: scopes, consent if needed, else the code. Throws {@link RedirectError}. */
    AuthorizeOutcome afterLogin(Tenant tenant, OAuthClient client, AuthRequest req, Session session, String sessionCookie,
                                RequestMeta meta, List<CookieSpec> cookies) {
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
        return codes.issue(tenant, req, session, granted, meta, cookies);
    }

    private AuthorizeOutcome consentPage(Tenant tenant, OAuthClient client, AuthRequest req, User user, Resource resource,
                                         List<String> granted, String sessionCookie, List<CookieSpec> cookies) {
        String csrf = Sessions.random();
        PendingConsent pc = new PendingConsent(req, user.id(), granted, Sessions.handle(sessionCookie));
        ephemeral.put(consentKey(tenant.id(), csrf), Json.write(pc), CONSENT_TTL);
        String host = URI.create(req.redirectUri()).getHost();
        Map<String, Object> model = new LinkedHashMap<>();
        model.put("clientName", client.name());
        model.put("clientId", client.clientId());
        model.put("returnHost", host == null ? req.redirectUri() : host);
        model.put("resourceName", resource.name());
        model.put("resourceUri", req.resource());
        model.put("actor", req.requestedActor());
        model.put("scopes", descriptions.describe(tenant.id(), resource.id(), granted));
        model.put("user", user.email() != null ? user.email() : user.upstreamSub());
        model.put("csrf", csrf);
        model.put("action", "/t/" + tenant.id() + "/consent");
        model.put("uiLocales", req.uiLocales());
        return new AuthorizeOutcome.Page(200, "login/consent", model, cookies);
    }

    /** POST /t/{tenant}/consent: the form's answer. */
    public AuthorizeOutcome consent(Tenant tenant, Map<String, String> form, String sessionCookie, RequestMeta meta) {
        String issuer = publicUrl.issuer(tenant.id());
        String csrf = form.get("csrf");
        Optional<PendingConsent> found = csrf == null || csrf.length() > 100 ? Optional.empty()
                : ephemeral.take(consentKey(tenant.id(), csrf)).map(v -> Json.read(v, PendingConsent.class));
        long now = clock.millis();
        Optional<Session> session = sessions.find(tenant.id(), sessionCookie, now);
        if (found.isEmpty() || session.isEmpty() || !found.get().sessionHandle().equals(Sessions.handle(sessionCookie))
                || !session.get().userId().equals(found.get().userId())) {
            audit.append(AuditEvent.of(tenant.id(), "consent.denied", Outcome.FAILURE).request(meta)
                    .detail("reason", "csrf_or_session_mismatch").build());
            return AuthorizeOutcome.Page.error(400, "error.cannot_continue", "error.consent_expired", List.of());
        }
        PendingConsent pc = found.get();
        AuthRequest req = pc.request();
        Session s = session.get();
        boolean allow = "allow".equals(form.get("decision"));
        AuditEvent.Builder ev = AuditEvent.of(tenant.id(), allow ? "consent.granted" : "consent.denied",
                        allow ? Outcome.ALLOW : Outcome.DENY)
                .subject(s.upstreamSub(), s.upstreamIss()).client(req.clientId()).resource(req.resource())
                .scopes(String.join(" ", pc.scopes())).request(meta).detail("user_id", s.userId());
        if (!allow) {
            audit.append(ev.build());
            return CodeIssuance.errorRedirect(req.redirectUri(), OAuth2Error.ACCESS_DENIED.setDescription("the user denied access"),
                    req.state(), issuer, List.of());
        }
        // the stored consent and its entry commit together (the code issued next lives in the ephemeral store)
        audited.run(tenant.id(), tx -> {
            consents.save(new Consent(tenant.id(), s.userId(), req.clientId(), req.resourceId(), pc.scopes(), now));
            return tx.append(ev.build());
        });
        try {
            return codes.issue(tenant, req, s, pc.scopes(), meta, List.of());
        } catch (RedirectError e) {
            return CodeIssuance.errorRedirect(req.redirectUri(), e.error, req.state(), issuer, List.of());
        }
    }

    private static String consentKey(String tenantId, String csrf) {
        return "consent:" + tenantId + ":" + ClientSecrets.sha256Hex(csrf);
    }
}
