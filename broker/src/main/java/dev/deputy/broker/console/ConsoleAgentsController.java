package dev.deputy.broker.console;

import dev.deputy.broker.admin.AdminPrincipal;
import dev.deputy.broker.admin.AdminRefusal;
import dev.deputy.broker.admin.ConsoleGate;
import dev.deputy.broker.admin.signin.ConsoleSettings;
import dev.deputy.broker.agent.Actor;
import dev.deputy.broker.agent.Agent;
import dev.deputy.broker.agent.AgentException;
import dev.deputy.broker.agent.AgentCredential;
import dev.deputy.broker.agent.AgentQuery;
import dev.deputy.broker.agent.Agents;
import dev.deputy.broker.agent.CredentialSpec;
import dev.deputy.broker.agent.Dormancy;
import dev.deputy.broker.audit.AuditEntry;
import dev.deputy.broker.audit.AuditQuery;
import dev.deputy.broker.audit.AuditStore;
import dev.deputy.broker.config.DurationDeserializer;
import dev.deputy.broker.http.RequestMetaFilter;
import dev.deputy.broker.pki.AgentCa;
import dev.deputy.broker.pki.CertificateIssuance;
import dev.deputy.broker.pki.CsrException;
import dev.deputy.broker.tenant.Tenant;
import dev.deputy.broker.tenant.Tenants;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpMethod;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.MediaType;
import io.micronaut.http.MutableHttpResponse;
import io.micronaut.http.annotation.Body;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.PathVariable;
import io.micronaut.http.annotation.Post;
import io.micronaut.http.annotation.QueryValue;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import io.micronaut.security.annotation.Secured;
import io.micronaut.security.authentication.Authentication;
import io.micronaut.security.rules.SecurityRule;

import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The console's agent pages: {@code GET /console/t/<tenant>/agents} (search, filters, pages), the agent's detail page,
 * a confirmation step and {@code POST .../<id>/(suspend|resume|revoke)}, credential rotation ({@code .../<id>/rotate}:
 * a new key set, {@code jwks_uri} or pinned certificate, or for a {@code tls_client_auth} agent a CSR the agent CA
 * signs, with an overlap) and a certificate from a CSR ({@code .../<id>/certificate}; the issued PEM shown and
 * downloadable). Every request is decided by the admin API's own authorization for the route that does the same thing
 * ({@link ConsoleGate}): roles per tenant, the CSRF token (the form's {@code _csrf}), step-up for revoking and
 * rotating. The work is the {@link Agents} service's and {@link CertificateIssuance}'s, as for the API.
 */
@Controller("/console/t/{tenant}/agents")
@Secured(SecurityRule.IS_ANONYMOUS)
@ExecuteOn(TaskExecutors.BLOCKING)
class ConsoleAgentsController {
    static final int PAGE_SIZE = 50;
    /** How many of the agent's audit entries the "acted for" list reads. */
    static final int ACTED_FOR_WINDOW = 500;
    private static final Set<String> ACTIONS = Set.of("suspend", "resume", "revoke");
    /** Actions with a form of their own (their GET shows the form; their POST does it). */
    private static final Set<String> FORMS = Set.of("rotate", "certificate");
    private static final com.fasterxml.jackson.databind.ObjectMapper JSON = new com.fasterxml.jackson.databind.ObjectMapper();

    private final boolean enabled;
    private final Agents agents;
    private final Tenants tenants;
    private final ConsoleGate gate;
    private final PageSupport pages;
    private final AuditStore audit;
    private final CertificateIssuance issuance;

    ConsoleAgentsController(@io.micronaut.context.annotation.Value("${deputy.console.enabled:false}") boolean enabled,
                            Agents agents, Tenants tenants, ConsoleGate gate, PageSupport pages, AuditStore audit,
                            CertificateIssuance issuance) {
        this.issuance = issuance;
        this.enabled = enabled;
        this.agents = agents;
        this.tenants = tenants;
        this.gate = gate;
        this.pages = pages;
        this.audit = audit;
    }

    @Get(produces = MediaType.TEXT_HTML)
    HttpResponse<?> list(@PathVariable String tenant, HttpRequest<?> request, @Nullable Authentication auth,
                         @Nullable @QueryValue String q, @Nullable @QueryValue String status,
                         @Nullable @QueryValue String environment, @Nullable @QueryValue String owner,
                         @Nullable @QueryValue String role, @Nullable @QueryValue String page) {
        Optional<AdminPrincipal> who = signedIn(auth);
        if (who.isEmpty()) {
            return signIn();
        }
        Optional<Tenant> t = find(tenant);
        if (t.isEmpty()) {
            return notFound(request);
        }
        AdminPrincipal p = who.get();
        try {
            gate.check(p, request, HttpMethod.GET, ConsoleGate.apiPath(tenant, "agents"), null);
        } catch (AdminRefusal e) {
            return refused(request, t.get(), e);
        }
        Agent.Status s = status(status);
        long now = System.currentTimeMillis();
        Dormancy dormancy = gate.dormancy(tenant);
        String needle = trim(q) == null ? null : trim(q).toLowerCase(Locale.ROOT);
        // the filters, the page and the count are the store's (SQL): a page reads 50 rows, whatever the registry's size
        AgentQuery query = new AgentQuery(s, trim(environment), trim(owner), p.ownerOnly(tenant) ? p.ownerIds() : null,
                trim(role), needle);
        int n = Math.max(1, parsePage(page));
        AgentQuery.Page found = agents.page(tenant, query, (n - 1) * PAGE_SIZE, PAGE_SIZE);
        int pageCount = Math.max(1, (found.total() + PAGE_SIZE - 1) / PAGE_SIZE);
        if (n > pageCount) { // past the end (a stale link): the last page
            n = pageCount;
            found = agents.page(tenant, query, (n - 1) * PAGE_SIZE, PAGE_SIZE);
        }
        List<Map<String, Object>> rows = new ArrayList<>();
        for (Agent a : found.agents()) {
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("id", a.id());
            r.put("href", base(tenant) + "/" + a.id());
            r.put("name", a.name());
            r.put("owner", a.owner());
            r.put("environment", a.environment());
            r.put("roles", String.join(", ", a.roles()));
            r.put("status", a.status().wire());
            r.put("dormant", dormancy.isDormant(a, now));
            Long last = Dormancy.lastActivity(a);
            r.put("lastActivity", last == null ? "never" : java.time.Instant.ofEpochMilli(last).toString());
            rows.add(r);
        }
        Map<String, Object> model = common(p, tenant);
        model.put("agents", rows);
        model.put("mayCreate", p.manages(tenant));
        model.put("total", found.total());
        model.put("page", n);
        model.put("pages", pageCount);
        Map<String, String> filters = new LinkedHashMap<>();
        filters.put("q", trim(q));
        filters.put("status", s == null ? null : s.wire());
        filters.put("environment", trim(environment));
        filters.put("owner", trim(owner));
        filters.put("role", trim(role));
        model.put("f", filters);
        model.put("prev", n > 1 ? pageLink(tenant, filters, n - 1) : null);
        model.put("next", n < pageCount ? pageLink(tenant, filters, n + 1) : null);
        return pages.page(request, t.get(), 200, "console/agents", model, null);
    }

    @Get(uri = "/{id}", produces = MediaType.TEXT_HTML)
    HttpResponse<?> show(@PathVariable String tenant, @PathVariable String id, HttpRequest<?> request,
                         @Nullable Authentication auth) {
        return detail(tenant, id, request, auth, null);
    }

    /** The confirmation step of an action: the same detail page with the action's form. */
    @Get(uri = "/{id}/{action}", produces = MediaType.TEXT_HTML)
    HttpResponse<?> confirm(@PathVariable String tenant, @PathVariable String id, @PathVariable String action,
                            HttpRequest<?> request, @Nullable Authentication auth) {
        if (!ACTIONS.contains(action) && !FORMS.contains(action)) {
            return find(tenant).<HttpResponse<?>>map(t -> notFoundPage(request, t)).orElseGet(() -> notFound(request));
        }
        return detail(tenant, id, request, auth, action);
    }

    @Post(uri = "/{id}/{action}", consumes = MediaType.APPLICATION_FORM_URLENCODED, produces = MediaType.TEXT_HTML)
    HttpResponse<?> act(@PathVariable String tenant, @PathVariable String id, @PathVariable String action,
                        HttpRequest<?> request, @Nullable Authentication auth, @Nullable @Body Map<String, String> form) {
        Optional<AdminPrincipal> who = signedIn(auth);
        if (who.isEmpty()) {
            return signIn();
        }
        Optional<Tenant> t = find(tenant);
        if (t.isEmpty() || (!ACTIONS.contains(action) && !FORMS.contains(action))) {
            return notFound(request);
        }
        Map<String, String> f = form == null ? Map.of() : form;
        if (action.equals("rotate")) {
            return rotate(t.get(), id, request, auth, who.get(), f);
        }
        if (action.equals("certificate")) {
            return certificate(t.get(), id, request, auth, who.get(), f);
        }
        String path = ConsoleGate.apiPath(tenant, "agents", id, action);
        try {
            gate.check(who.get(), request, HttpMethod.POST, path, form == null ? null : form.get("_csrf"));
        } catch (AdminRefusal e) {
            return refused(request, t.get(), e);
        }
        String reason = form == null ? null : trim(form.get("reason"));
        Actor actor = Actor.admin(who.get().name());
        try {
            switch (action) {
                case "suspend" -> agents.suspend(tenant, id, reason, actor, RequestMetaFilter.of(request));
                case "resume" -> agents.resume(tenant, id, reason, actor, RequestMetaFilter.of(request));
                default -> agents.revoke(tenant, id, reason, actor, RequestMetaFilter.of(request));
            }
        } catch (AgentException e) {
            gate.failed(request, HttpMethod.POST, path, e);
            Map<String, Object> model = common(who.get(), tenant);
            model.put("status", e.kind().status());
            model.put("message", e.getMessage());
            return pages.page(request, t.get(), e.kind().status(), "console/refused", model, null);
        }
        return PageSupport.secure(HttpResponse.seeOther(URI.create(base(tenant) + "/" + id)));
    }

    private HttpResponse<?> detail(String tenant, String id, HttpRequest<?> request, @Nullable Authentication auth,
                                   @Nullable String confirm) {
        return detail(tenant, id, request, auth, confirm, null);
    }

    /** The detail page; {@code issued}: a certificate just issued (shown once with its download link). */
    private HttpResponse<?> detail(String tenant, String id, HttpRequest<?> request, @Nullable Authentication auth,
                                   @Nullable String confirm, @Nullable Map<String, Object> issued) {
        Optional<AdminPrincipal> who = signedIn(auth);
        if (who.isEmpty()) {
            return signIn();
        }
        Optional<Tenant> t = find(tenant);
        if (t.isEmpty() || !Agent.ID.matcher(id).matches()) {
            return notFound(request);
        }
        AdminPrincipal p = who.get();
        try {
            gate.check(p, request, HttpMethod.GET, ConsoleGate.apiPath(tenant, "agents", id), null);
        } catch (AdminRefusal e) {
            return refused(request, t.get(), e);
        }
        Agents.Details d;
        try {
            d = agents.details(tenant, id);
        } catch (AgentException e) {
            return notFoundPage(request, t.get());
        }
        long now = System.currentTimeMillis();
        Map<String, Object> model = common(p, tenant);
        model.put("agent", gate.agentView(tenant, d, now));
        model.put("href", base(tenant) + "/" + id);
        boolean mayChange = p.manages(tenant) || (p.ownerOnly(tenant) && p.owns(d.agent().owner()));
        model.put("mayChange", mayChange);
        Agent.Status s = d.agent().status();
        model.put("canSuspend", mayChange && s == Agent.Status.ACTIVE);
        model.put("canResume", mayChange && s == Agent.Status.SUSPENDED);
        model.put("canRevoke", mayChange && s != Agent.Status.REVOKED);
        model.put("canRotate", mayChange && s != Agent.Status.REVOKED);
        model.put("canIssue", mayChange && s != Agent.Status.REVOKED);
        model.put("rotateWith", switch (d.agent().authMethod()) {
            case TLS_CLIENT_AUTH -> "csr";
            case SELF_SIGNED_TLS_CLIENT_AUTH -> "certificate";
            case PRIVATE_KEY_JWT -> "jwks";
        });
        // the confirmation step or form, only for someone who may change the agent (an auditor gets the plain page)
        String shown = mayChange && (s != Agent.Status.REVOKED || confirm != null && ACTIONS.contains(confirm)) ? confirm : null;
        model.put("confirm", shown);
        model.put("isAction", shown != null && ACTIONS.contains(shown));
        model.put("issued", issued);
        model.put("actedFor", actedFor(tenant, id));
        return pages.page(request, t.get(), 200, "console/agent", model, null);
    }

    /**
     * Rotation as {@code POST /admin/t/<tenant>/agents/<id>/rotate} does it (a privileged action: step-up): the new key
     * set, {@code jwks_uri} or pinned certificate works at once, the others for the overlap. A {@code tls_client_auth}
     * agent rotates to a certificate the agent CA issues from its CSR (as {@code deputy agent rotate} does through
     * {@code POST .../certificates} with {@code rotate: true}).
     */
    private HttpResponse<?> rotate(Tenant t, String id, HttpRequest<?> request, @Nullable Authentication auth,
                                   AdminPrincipal p, Map<String, String> f) {
        String path = ConsoleGate.apiPath(t.id(), "agents", id, "rotate");
        Optional<Agent> agent = agents.find(t.id(), id);
        try {
            gate.check(p, request, HttpMethod.POST, path, f.get("_csrf"));
            if (agent.isPresent() && agent.get().authMethod() == Agent.AuthMethod.TLS_CLIENT_AUTH) {
                gate.check(p, request, HttpMethod.POST, ConsoleGate.apiPath(t.id(), "agents", id, "certificates"), f.get("_csrf"));
            }
        } catch (AdminRefusal e) {
            return refused(request, t, e);
        }
        Duration overlap;
        try {
            overlap = trim(f.get("overlap")) == null ? null : DurationDeserializer.parse(trim(f.get("overlap")));
        } catch (IllegalArgumentException e) {
            return invalid(request, t, p, path, "overlap is a duration such as 1h or 30m");
        }
        if (agent.isPresent() && agent.get().authMethod() == Agent.AuthMethod.TLS_CLIENT_AUTH) {
            return issue(t, id, request, auth, p, f.get("csr"), null, true, overlap);
        }
        CredentialSpec spec;
        try {
            spec = spec(f);
        } catch (AgentException e) {
            return invalid(request, t, p, path, e.getMessage());
        }
        try {
            agents.rotate(t.id(), id, spec, overlap, Actor.admin(p.name()), RequestMetaFilter.of(request));
        } catch (AgentException e) {
            gate.failed(request, HttpMethod.POST, path, e);
            return failedPage(request, t, p, e.kind().status(), e.getMessage());
        }
        return PageSupport.secure(HttpResponse.seeOther(URI.create(base(t.id()) + "/" + id)));
    }

    /** A certificate from the agent's CSR, as {@code POST /admin/t/<tenant>/agents/<id>/certificates} issues it. */
    private HttpResponse<?> certificate(Tenant t, String id, HttpRequest<?> request, @Nullable Authentication auth,
                                        AdminPrincipal p, Map<String, String> f) {
        String path = ConsoleGate.apiPath(t.id(), "agents", id, "certificates");
        try {
            gate.check(p, request, HttpMethod.POST, path, f.get("_csrf"));
        } catch (AdminRefusal e) {
            return refused(request, t, e);
        }
        Duration ttl;
        try {
            ttl = trim(f.get("ttl")) == null ? null : DurationDeserializer.parse(trim(f.get("ttl")));
        } catch (IllegalArgumentException e) {
            return invalid(request, t, p, path, "ttl is a duration such as 24h or 30m");
        }
        return issue(t, id, request, auth, p, f.get("csr"), ttl, false, null);
    }

    private HttpResponse<?> issue(Tenant t, String id, HttpRequest<?> request, @Nullable Authentication auth,
                                  AdminPrincipal p, @Nullable String csr, @Nullable Duration ttl, boolean rotate,
                                  @Nullable Duration overlap) {
        String path = ConsoleGate.apiPath(t.id(), "agents", id, "certificates");
        if (trim(csr) == null) {
            return invalid(request, t, p, path, "csr is required");
        }
        AgentCa.Issued issued;
        try {
            // audited by the issuance, success or failure, as for the API
            issued = issuance.issue(t.id(), id, csr.strip() + "\n", ttl, rotate, overlap, p.name(), RequestMetaFilter.of(request));
        } catch (CsrException e) {
            boolean unknown = "unknown agent".equals(e.getMessage());
            return failedPage(request, t, p, unknown ? 404 : 400, (unknown ? "not_found: " : "invalid_request: ") + e.getMessage());
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("certificate", issued.certificatePem());
        m.put("ca", issued.caPem());
        m.put("serial", issued.serial());
        m.put("notAfter", issued.notAfter().toString());
        m.put("thumbprint", issued.thumbprint());
        m.put("rotated", rotate);
        m.put("download", base(t.id()) + "/" + id + "/certificates/" + issued.credentialId());
        return detail(t.id(), id, request, auth, null, m);
    }

    /** A certificate the agent CA issued for the agent, as a PEM file (public; the same access as the agent page). */
    @Get(uri = "/{id}/certificates/{credential}", produces = "application/x-pem-file")
    HttpResponse<?> download(@PathVariable String tenant, @PathVariable String id, @PathVariable String credential,
                             HttpRequest<?> request, @Nullable Authentication auth) {
        Optional<AdminPrincipal> who = signedIn(auth);
        if (who.isEmpty()) {
            return signIn();
        }
        Optional<Tenant> t = find(tenant);
        if (t.isEmpty() || !Agent.ID.matcher(id).matches()) {
            return notFound(request);
        }
        try {
            gate.check(who.get(), request, HttpMethod.GET, ConsoleGate.apiPath(tenant, "agents", id), null);
        } catch (AdminRefusal e) {
            return refused(request, t.get(), e);
        }
        Optional<AgentCredential> c;
        try {
            c = agents.details(tenant, id).credentials().stream()
                    .filter(x -> x.id().equals(credential) && x.kind() == AgentCredential.Kind.CA_CERT).findFirst();
        } catch (AgentException e) {
            c = Optional.empty();
        }
        if (c.isEmpty()) {
            return notFoundPage(request, t.get());
        }
        return PageSupport.secure(HttpResponse.ok(c.get().material()).contentType("application/x-pem-file")
                .header("Content-Disposition", "attachment; filename=\"" + id + "-" + c.get().serial() + ".pem\""));
    }

    /** The rotate form's credential: exactly one of a JWK Set (JSON), a {@code jwks_uri}, a PEM certificate. */
    private static CredentialSpec spec(Map<String, String> f) {
        String jwks = trim(f.get("jwks"));
        Map<String, Object> set = null;
        if (jwks != null) {
            try {
                set = JSON.readValue(jwks, new com.fasterxml.jackson.core.type.TypeReference<Map<String, Object>>() {
                });
            } catch (java.io.IOException | RuntimeException e) {
                throw AgentException.invalid("jwks must be a JSON JWK Set: {\"keys\": [ ... ]}");
            }
        }
        String cert = trim(f.get("certificate"));
        return new CredentialSpec(set, trim(f.get("jwks_uri")), cert == null ? null : cert + "\n");
    }

    private MutableHttpResponse<?> invalid(HttpRequest<?> request, Tenant t, AdminPrincipal p, String path, String message) {
        gate.failed(request, HttpMethod.POST, path, "invalid_request", 400, message);
        return failedPage(request, t, p, 400, "invalid_request: " + message);
    }

    private MutableHttpResponse<?> failedPage(HttpRequest<?> request, Tenant t, AdminPrincipal p, int status, String message) {
        Map<String, Object> model = common(p, t.id());
        model.put("status", status);
        model.put("message", message);
        return pages.page(request, t, status, "console/refused", model, null);
    }

    /** Users the agent acted for, from its audit entries (the agent or any actor in the chain; keyset index). */
    private List<String> actedFor(String tenant, String id) {
        Set<String> users = new LinkedHashSet<>();
        AuditQuery q = new AuditQuery(tenant, null, null, null, id, null, null, List.of("token."), "success", null,
                null, 0, ACTED_FOR_WINDOW);
        for (AuditEntry e : audit.query(q)) {
            if (e.subject() != null && !e.subject().equals(id)) {
                users.add(e.subject());
            }
        }
        return List.copyOf(users);
    }

    private Map<String, Object> common(AdminPrincipal p, String tenant) {
        Map<String, Object> model = new LinkedHashMap<>();
        model.put("admin", p.name());
        model.put("csrf", p.session().csrf());
        model.put("base", base(tenant));
        model.put("navTenant", tenant);
        model.put("readOnly", !p.manages(tenant) && !p.ownerOnly(tenant));
        return model;
    }

    private static Optional<AdminPrincipal> signedIn(@Nullable Authentication auth) {
        return AdminPrincipal.of(auth).filter(p -> p.kind() == AdminPrincipal.Kind.CONSOLE && p.session() != null);
    }

    private Optional<Tenant> find(String tenant) {
        return enabled ? tenants.find(tenant) : Optional.empty();
    }

    private static String base(String tenant) {
        return "/console/t/" + URLEncoder.encode(tenant, StandardCharsets.UTF_8) + "/agents";
    }

    private static String pageLink(String tenant, Map<String, String> filters, int page) {
        StringBuilder sb = new StringBuilder(base(tenant)).append("?page=").append(page);
        filters.forEach((k, v) -> {
            if (v != null) {
                sb.append('&').append(k).append('=').append(URLEncoder.encode(v, StandardCharsets.UTF_8));
            }
        });
        return sb.toString();
    }

    private MutableHttpResponse<?> signIn() {
        if (!enabled) {
            return HttpResponse.notFound();
        }
        return PageSupport.secure(HttpResponse.seeOther(URI.create("/console/oauth/login/" + ConsoleSettings.CLIENT)));
    }

    private MutableHttpResponse<?> refused(HttpRequest<?> request, Tenant t, AdminRefusal e) {
        Map<String, Object> model = new LinkedHashMap<>();
        model.put("status", e.status());
        model.put("message", e.getMessage());
        model.put("stepUp", e.challenge() != null);
        model.put("base", base(t.id()));
        MutableHttpResponse<?> r = pages.page(request, t, e.status(), "console/refused", model, null);
        return e.challenge() == null ? r : r.header("WWW-Authenticate", e.challenge());
    }

    private MutableHttpResponse<?> notFoundPage(HttpRequest<?> request, Tenant t) {
        return pages.page(request, t, 404, "error", Map.of("titleKey", "error.cannot_continue",
                "messageKey", "error.not_found"), null);
    }

    private static MutableHttpResponse<?> notFound(HttpRequest<?> request) {
        return PageSupport.secure(HttpResponse.notFound().contentType(MediaType.TEXT_PLAIN_TYPE).body("Not found"));
    }

    private static Agent.Status status(String s) {
        if (trim(s) == null) {
            return null;
        }
        for (Agent.Status v : Agent.Status.values()) {
            if (v.wire().equals(trim(s))) {
                return v;
            }
        }
        return null;
    }

    private static int parsePage(String s) {
        try {
            return s == null ? 1 : Integer.parseInt(s.trim());
        } catch (NumberFormatException e) {
            return 1;
        }
    }

    private static String trim(String s) {
        return s == null || s.isBlank() ? null : s.strip();
    }
}
