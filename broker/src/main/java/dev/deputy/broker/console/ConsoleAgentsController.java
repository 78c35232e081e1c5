package dev.deputy.broker.console;

import dev.deputy.broker.admin.AdminPrincipal;
import dev.deputy.broker.admin.ConsoleGate;
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

    private final Agents agents;
    private final ConsoleTenantPages pages;
    private final ConsoleGate gate;
    private final AuditStore audit;
    private final CertificateIssuance issuance;

    ConsoleAgentsController(Agents agents, ConsoleTenantPages pages, AuditStore audit, CertificateIssuance issuance) {
        this.agents = agents;
        this.pages = pages;
        this.gate = pages.gate();
        this.audit = audit;
        this.issuance = issuance;
    }

    /** A refusal's way back: the agent list. */
    private static ConsoleTenantPages.Back back(String tenant) {
        return ConsoleTenantPages.Back.to(base(tenant), "Back to the agents");
    }

    @Get(produces = MediaType.TEXT_HTML)
    HttpResponse<?> list(@PathVariable String tenant, HttpRequest<?> request, @Nullable Authentication auth,
                         @Nullable @QueryValue String q, @Nullable @QueryValue String status,
                         @Nullable @QueryValue String environment, @Nullable @QueryValue String owner,
                         @Nullable @QueryValue String role, @Nullable @QueryValue String page) {
        ConsoleTenantPages.Visit v = pages.open(request, auth, tenant, HttpMethod.GET, ConsoleGate.apiPath(tenant, "agents"),
                null, back(tenant));
        if (v.stopped()) {
            return v.stop();
        }
        AdminPrincipal p = v.admin();
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
        Map<String, Object> model = pages.model(v, base(tenant));
        model.put("agents", rows);
        model.put("mayCreate", p.manages(tenant));
        model.put("newAgent", ConsoleAgentCreateController.path(tenant));
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
        return pages.render(request, v, 200, "console/agents", model);
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
            return pages.find(tenant).<HttpResponse<?>>map(t -> pages.notFound(request, t))
                    .orElseGet(ConsoleTenantPages::plainNotFound);
        }
        return detail(tenant, id, request, auth, action);
    }

    @Post(uri = "/{id}/{action}", consumes = MediaType.APPLICATION_FORM_URLENCODED, produces = MediaType.TEXT_HTML)
    HttpResponse<?> act(@PathVariable String tenant, @PathVariable String id, @PathVariable String action,
                        HttpRequest<?> request, @Nullable Authentication auth, @Nullable @Body Map<String, String> form) {
        ConsoleTenantPages.Visit entered = pages.enter(auth, tenant);
        if (entered.stopped()) {
            return entered.stop();
        }
        if (!ACTIONS.contains(action) && !FORMS.contains(action)) {
            return ConsoleTenantPages.plainNotFound();
        }
        Map<String, String> f = form == null ? Map.of() : form;
        if (action.equals("rotate")) {
            return rotate(entered, id, request, auth, f);
        }
        if (action.equals("certificate")) {
            return certificate(entered, id, request, auth, f);
        }
        String path = ConsoleGate.apiPath(tenant, "agents", id, action);
        ConsoleTenantPages.Visit v = pages.allow(request, entered, HttpMethod.POST, path, f.get("_csrf"), back(tenant));
        if (v.stopped()) {
            return v.stop();
        }
        String reason = trim(f.get("reason"));
        Actor actor = Actor.admin(v.admin().name());
        try {
            switch (action) {
                case "suspend" -> agents.suspend(tenant, id, reason, actor, RequestMetaFilter.of(request));
                case "resume" -> agents.resume(tenant, id, reason, actor, RequestMetaFilter.of(request));
                default -> agents.revoke(tenant, id, reason, actor, RequestMetaFilter.of(request));
            }
        } catch (AgentException e) {
            return pages.failed(request, v, HttpMethod.POST, path, e, back(tenant));
        }
        return ConsoleTenantPages.seeOther(base(tenant) + "/" + id);
    }

    private HttpResponse<?> detail(String tenant, String id, HttpRequest<?> request, @Nullable Authentication auth,
                                   @Nullable String confirm) {
        return detail(tenant, id, request, auth, confirm, null);
    }

    /** The detail page; {@code issued}: a certificate just issued (shown once with its download link). */
    private HttpResponse<?> detail(String tenant, String id, HttpRequest<?> request, @Nullable Authentication auth,
                                   @Nullable String confirm, @Nullable Map<String, Object> issued) {
        ConsoleTenantPages.Visit v = openAgent(request, auth, tenant, id);
        if (v.stopped()) {
            return v.stop();
        }
        AdminPrincipal p = v.admin();
        Agents.Details d;
        try {
            d = agents.details(tenant, id);
        } catch (AgentException e) {
            return pages.notFound(request, v);
        }
        long now = System.currentTimeMillis();
        Map<String, Object> model = pages.model(v, base(tenant));
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
        return pages.render(request, v, 200, "console/agent", model);
    }

    /** A visit of one agent's pages: a well-formed id, and the admin API's access to {@code GET …/agents/<id>}. */
    private ConsoleTenantPages.Visit openAgent(HttpRequest<?> request, @Nullable Authentication auth, String tenant,
                                               String id) {
        ConsoleTenantPages.Visit v = pages.enter(auth, tenant);
        if (v.stopped()) {
            return v;
        }
        if (!Agent.ID.matcher(id).matches()) {
            return new ConsoleTenantPages.Visit(v.admin(), v.tenant(), ConsoleTenantPages.plainNotFound());
        }
        return pages.allow(request, v, HttpMethod.GET, ConsoleGate.apiPath(tenant, "agents", id), null, back(tenant));
    }

    /**
     * Rotation as {@code POST /admin/t/<tenant>/agents/<id>/rotate} does it (a privileged action: step-up): the new key
     * set, {@code jwks_uri} or pinned certificate works at once, the others for the overlap. A {@code tls_client_auth}
     * agent rotates to a certificate the agent CA issues from its CSR (as {@code deputy agent rotate} does through
     * {@code POST .../certificates} with {@code rotate: true}).
     */
    private HttpResponse<?> rotate(ConsoleTenantPages.Visit entered, String id, HttpRequest<?> request,
                                   @Nullable Authentication auth, Map<String, String> f) {
        String tenant = entered.id();
        String path = ConsoleGate.apiPath(tenant, "agents", id, "rotate");
        Optional<Agent> agent = agents.find(tenant, id);
        boolean fromCsr = agent.isPresent() && agent.get().authMethod() == Agent.AuthMethod.TLS_CLIENT_AUTH;
        ConsoleTenantPages.Visit v = pages.allow(request, entered, back(tenant), p -> {
            gate.check(p, request, HttpMethod.POST, path, f.get("_csrf"));
            if (fromCsr) {
                gate.check(p, request, HttpMethod.POST, ConsoleGate.apiPath(tenant, "agents", id, "certificates"), f.get("_csrf"));
            }
        });
        if (v.stopped()) {
            return v.stop();
        }
        Duration overlap;
        try {
            overlap = trim(f.get("overlap")) == null ? null : DurationDeserializer.parse(trim(f.get("overlap")));
        } catch (IllegalArgumentException e) {
            return invalid(request, v, path, "overlap is a duration such as 1h or 30m");
        }
        if (fromCsr) {
            return issue(v, id, request, auth, f.get("csr"), null, true, overlap);
        }
        CredentialSpec spec;
        try {
            spec = spec(f);
        } catch (AgentException e) {
            return invalid(request, v, path, e.getMessage());
        }
        try {
            agents.rotate(tenant, id, spec, overlap, Actor.admin(v.admin().name()), RequestMetaFilter.of(request));
        } catch (AgentException e) {
            return pages.failed(request, v, HttpMethod.POST, path, e, back(tenant));
        }
        return ConsoleTenantPages.seeOther(base(tenant) + "/" + id);
    }

    /** A certificate from the agent's CSR, as {@code POST /admin/t/<tenant>/agents/<id>/certificates} issues it. */
    private HttpResponse<?> certificate(ConsoleTenantPages.Visit entered, String id, HttpRequest<?> request,
                                        @Nullable Authentication auth, Map<String, String> f) {
        String path = ConsoleGate.apiPath(entered.id(), "agents", id, "certificates");
        ConsoleTenantPages.Visit v = pages.allow(request, entered, HttpMethod.POST, path, f.get("_csrf"), back(entered.id()));
        if (v.stopped()) {
            return v.stop();
        }
        Duration ttl;
        try {
            ttl = trim(f.get("ttl")) == null ? null : DurationDeserializer.parse(trim(f.get("ttl")));
        } catch (IllegalArgumentException e) {
            return invalid(request, v, path, "ttl is a duration such as 24h or 30m");
        }
        return issue(v, id, request, auth, f.get("csr"), ttl, false, null);
    }

    private HttpResponse<?> issue(ConsoleTenantPages.Visit v, String id, HttpRequest<?> request,
                                  @Nullable Authentication auth, @Nullable String csr, @Nullable Duration ttl,
                                  boolean rotate, @Nullable Duration overlap) {
        String tenant = v.id();
        String path = ConsoleGate.apiPath(tenant, "agents", id, "certificates");
        if (trim(csr) == null) {
            return invalid(request, v, path, "csr is required");
        }
        AgentCa.Issued issued;
        try {
            // audited by the issuance, success or failure, as for the API
            issued = issuance.issue(tenant, id, csr.strip() + "\n", ttl, rotate, overlap, v.admin().name(),
                    RequestMetaFilter.of(request));
        } catch (CsrException e) {
            boolean unknown = "unknown agent".equals(e.getMessage());
            return pages.failed(request, v, unknown ? 404 : 400, (unknown ? "not_found: " : "invalid_request: ")
                    + e.getMessage(), back(tenant));
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("certificate", issued.certificatePem());
        m.put("ca", issued.caPem());
        m.put("serial", issued.serial());
        m.put("notAfter", issued.notAfter().toString());
        m.put("thumbprint", issued.thumbprint());
        m.put("rotated", rotate);
        m.put("download", base(tenant) + "/" + id + "/certificates/" + issued.credentialId());
        return detail(tenant, id, request, auth, null, m);
    }

    /** A certificate the agent CA issued for the agent, as a PEM file (public; the same access as the agent page). */
    @Get(uri = "/{id}/certificates/{credential}", produces = "application/x-pem-file")
    HttpResponse<?> download(@PathVariable String tenant, @PathVariable String id, @PathVariable String credential,
                             HttpRequest<?> request, @Nullable Authentication auth) {
        ConsoleTenantPages.Visit v = openAgent(request, auth, tenant, id);
        if (v.stopped()) {
            return v.stop();
        }
        Optional<AgentCredential> c;
        try {
            c = agents.details(tenant, id).credentials().stream()
                    .filter(x -> x.id().equals(credential) && x.kind() == AgentCredential.Kind.CA_CERT).findFirst();
        } catch (AgentException e) {
            c = Optional.empty();
        }
        if (c.isEmpty()) {
            return pages.notFound(request, v);
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

    /** Malformed form input: audited as the API's 400 invalid_request, shown; nothing changed. */
    private MutableHttpResponse<?> invalid(HttpRequest<?> request, ConsoleTenantPages.Visit v, String path, String message) {
        gate.failed(request, HttpMethod.POST, path, "invalid_request", 400, message);
        return pages.failed(request, v, 400, "invalid_request: " + message, back(v.id()));
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

    private static String base(String tenant) {
        return ConsoleTenantPages.base(tenant, "agents");
    }

    private static String pageLink(String tenant, Map<String, String> filters, int page) {
        StringBuilder sb = new StringBuilder(base(tenant)).append("?page=").append(page);
        filters.forEach((k, v) -> {
            if (v != null) {
                sb.append('&').append(k).append('=').append(ConsoleTenantPages.enc(v));
            }
        });
        return sb.toString();
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
        return ConsoleTenantPages.trim(s);
    }
}
