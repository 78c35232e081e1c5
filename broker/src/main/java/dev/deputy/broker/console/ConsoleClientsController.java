package dev.deputy.broker.console;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.deputy.broker.admin.ClientAdmin;
import dev.deputy.broker.admin.ConsoleGate;
import dev.deputy.broker.agent.Actor;
import dev.deputy.broker.agent.AgentException;
import dev.deputy.broker.agent.ClientQuery;
import dev.deputy.broker.agent.ClientStore;
import dev.deputy.broker.agent.OAuthClient;
import dev.deputy.broker.http.RequestMetaFilter;
import dev.deputy.broker.registration.ClientIdMetadataDocuments;
import dev.deputy.broker.registration.Registration;
import dev.deputy.broker.registration.RegistrationStore;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpMethod;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.MediaType;
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

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The console's clients and registrations: {@code GET /console/t/<tenant>/clients} lists the tenant's OAuth clients of
 * every kind — from config files, registered through the admin API, registered by DCR, and Client ID Metadata
 * Document clients (URL client ids, which have no row: they are found where they left traces, their last token and the
 * consents users gave them) — with filters, 50 to a page ({@link ClientQuery}: filtered and paged in SQL, keyset pages by
 * client id, {@code ?after=} / {@code ?before=}); {@code …/clients/show?id=} is one client; {@code …/clients/confirm} the
 * confirmation step of an action and {@code POST …/clients/(internal|external|delete)} the action, which is the admin
 * API's ({@code PATCH} / {@code DELETE /admin/t/<tenant>/clients/<id>}, {@link ClientAdmin}) and is decided by the
 * admin API's authorization for that route ({@link ConsoleGate}).
 */
@Controller("/console/t/{tenant}/clients")
@Secured(SecurityRule.IS_ANONYMOUS)
@ExecuteOn(TaskExecutors.BLOCKING)
class ConsoleClientsController {
    static final Set<String> KINDS = Set.copyOf(ClientQuery.KINDS);
    /** Clients on a page of the list. */
    static final int PAGE_SIZE = 50;
    private static final Set<String> ACTIONS = Set.of("internal", "external", "delete");
    private static final List<String> DEFAULT_GRANTS = List.of("authorization_code", "refresh_token");
    private static final ObjectMapper JSON = new ObjectMapper();

    private final ConsoleTenantPages pages;
    private final ClientStore clients;
    private final RegistrationStore registrations;
    private final ClientIdMetadataDocuments cimd;
    private final ClientAdmin admin;

    ConsoleClientsController(ConsoleTenantPages pages, ClientStore clients, RegistrationStore registrations,
                             ClientIdMetadataDocuments cimd, ClientAdmin admin) {
        this.pages = pages;
        this.clients = clients;
        this.registrations = registrations;
        this.cimd = cimd;
        this.admin = admin;
    }

    /** One client as the pages show it (a CIMD client: what this node knows of its document). */
    private record Row(String id, String name, String kind, boolean internal, String authMethod, List<String> redirectUris,
                       Long createdAt, Long updatedAt, Long lastToken) {
    }

    @Get(produces = MediaType.TEXT_HTML)
    HttpResponse<?> list(@PathVariable String tenant, HttpRequest<?> request, @Nullable Authentication auth,
                         @Nullable @QueryValue String kind, @Nullable @QueryValue String audience,
                         @Nullable @QueryValue String q, @Nullable @QueryValue String after,
                         @Nullable @QueryValue String before) {
        String base = ConsoleTenantPages.base(tenant, "clients");
        ConsoleTenantPages.Visit v = pages.open(request, auth, tenant, HttpMethod.GET, ConsoleGate.apiPath(tenant, "clients"),
                null, ConsoleTenantPages.Back.to(base));
        if (v.stopped()) {
            return v.stop();
        }
        String k = ConsoleTenantPages.trim(kind) != null && KINDS.contains(kind.strip()) ? kind.strip() : null;
        String a = "internal".equals(ConsoleTenantPages.trim(audience)) || "external".equals(ConsoleTenantPages.trim(audience))
                ? audience.strip() : null;
        String needle = ConsoleTenantPages.trim(q) == null ? null : q.strip().toLowerCase(Locale.ROOT);
        String from = ConsoleTenantPages.trim(after);
        String to = from == null ? ConsoleTenantPages.trim(before) : null;
        // the filters and the page are the store's (SQL, keyset pages by client id): a page reads its own rows
        ClientQuery.Page found = clients.page(v.id(), new ClientQuery(k, a == null ? null : "internal".equals(a), needle),
                from, to, PAGE_SIZE);
        if (found.clients().isEmpty() && (from != null || to != null)) {
            // past either end (a stale link): the first page
            from = null;
            to = null;
            found = clients.page(v.id(), new ClientQuery(k, a == null ? null : "internal".equals(a), needle), null, null, PAGE_SIZE);
        }
        List<Map<String, Object>> rows = new ArrayList<>();
        for (ClientQuery.Listed l : found.clients()) {
            Map<String, Object> m = view(row(v.id(), l));
            m.put("href", base + "/show?id=" + ConsoleTenantPages.enc(l.clientId()));
            rows.add(m);
        }
        Map<String, Object> model = pages.model(v, base);
        model.put("clients", rows);
        model.put("total", found.total());
        Map<String, String> f = new LinkedHashMap<>();
        f.put("kind", k);
        f.put("audience", a);
        f.put("q", ConsoleTenantPages.trim(q));
        model.put("f", f);
        model.put("kinds", ClientQuery.KINDS);
        // forwards: a previous page when this one started after a cursor; backwards: a next page always
        boolean earlier = to != null ? found.more() : from != null;
        boolean later = to != null || found.more();
        List<ClientQuery.Listed> shown = found.clients();
        model.put("prev", earlier && !shown.isEmpty() ? link(base, f, "before", shown.getFirst().clientId()) : null);
        model.put("next", later && !shown.isEmpty() ? link(base, f, "after", shown.getLast().clientId()) : null);
        return pages.render(request, v, 200, "console/clients", model);
    }

    /** The list's address with its filters and a cursor. */
    private static String link(String base, Map<String, String> filters, String cursor, String id) {
        StringBuilder sb = new StringBuilder(base).append('?').append(cursor).append('=').append(ConsoleTenantPages.enc(id));
        filters.forEach((k, v) -> {
            if (v != null) {
                sb.append('&').append(k).append('=').append(ConsoleTenantPages.enc(v));
            }
        });
        return sb.toString();
    }

    @Get(uri = "/show", produces = MediaType.TEXT_HTML)
    HttpResponse<?> show(@PathVariable String tenant, @Nullable @QueryValue String id, HttpRequest<?> request,
                         @Nullable Authentication auth) {
        return detail(tenant, id, null, request, auth);
    }

    /** The confirmation step of an action: the client's page with the action's form. */
    @Get(uri = "/confirm", produces = MediaType.TEXT_HTML)
    HttpResponse<?> confirm(@PathVariable String tenant, @Nullable @QueryValue String id, @Nullable @QueryValue String action,
                            HttpRequest<?> request, @Nullable Authentication auth) {
        return detail(tenant, id, action != null && ACTIONS.contains(action) ? action : null, request, auth);
    }

    @Post(uri = "/{action}", consumes = MediaType.APPLICATION_FORM_URLENCODED, produces = MediaType.TEXT_HTML)
    HttpResponse<?> act(@PathVariable String tenant, @PathVariable String action, HttpRequest<?> request,
                        @Nullable Authentication auth, @Nullable @Body Map<String, String> form) {
        String id = form == null ? null : ConsoleTenantPages.trim(form.get("id"));
        if (!ACTIONS.contains(action) || id == null) {
            return ConsoleTenantPages.plainNotFound();
        }
        String base = ConsoleTenantPages.base(tenant, "clients");
        String back = base + "/show?id=" + ConsoleTenantPages.enc(id);
        HttpMethod method = "delete".equals(action) ? HttpMethod.DELETE : HttpMethod.PATCH;
        String path = ConsoleGate.apiPath(tenant, "clients", id);
        ConsoleTenantPages.Visit v = pages.open(request, auth, tenant, method, path, form.get("_csrf"), ConsoleTenantPages.Back.to(back));
        if (v.stopped()) {
            return v.stop();
        }
        Actor actor = Actor.admin(v.admin().name());
        try {
            if ("delete".equals(action)) {
                admin.delete(v.id(), id, actor, RequestMetaFilter.of(request));
                return ConsoleTenantPages.seeOther(base);
            }
            admin.setInternal(v.id(), id, "internal".equals(action), actor, RequestMetaFilter.of(request));
        } catch (AgentException e) {
            return pages.failed(request, v, method, path, e, ConsoleTenantPages.Back.to(back));
        }
        return ConsoleTenantPages.seeOther(back);
    }

    private HttpResponse<?> detail(String tenant, @Nullable String id, @Nullable String confirm, HttpRequest<?> request,
                                   @Nullable Authentication auth) {
        String base = ConsoleTenantPages.base(tenant, "clients");
        String clientId = ConsoleTenantPages.trim(id);
        if (clientId == null || clientId.length() > 255) {
            return ConsoleTenantPages.plainNotFound();
        }
        ConsoleTenantPages.Visit v = pages.open(request, auth, tenant, HttpMethod.GET,
                ConsoleGate.apiPath(tenant, "clients", clientId), null, ConsoleTenantPages.Back.to(base));
        if (v.stopped()) {
            return v.stop();
        }
        Optional<ClientQuery.Listed> found = clients.listed(v.id(), clientId);
        if (found.isEmpty()) {
            return pages.notFound(request, v);
        }
        Row r = row(v.id(), found.get());
        Map<String, Object> c = view(r);
        c.put("grantTypes", DEFAULT_GRANTS);
        if ("dcr".equals(r.kind())) {
            registrations.find(v.id(), r.id()).ifPresent(reg -> registration(c, reg));
        }
        if ("cimd".equals(r.kind())) {
            c.put("documentCached", cimd.cached(r.id()).isPresent());
        }
        Map<String, Object> model = pages.model(v, base);
        boolean changeable = "api".equals(r.kind()) || "dcr".equals(r.kind());
        boolean mayChange = (Boolean) model.get("mayChange") && changeable;
        model.put("client", c);
        model.put("href", base + "/show?id=" + ConsoleTenantPages.enc(r.id()));
        model.put("confirmBase", base + "/confirm?id=" + ConsoleTenantPages.enc(r.id()) + "&action=");
        model.put("canChange", mayChange);
        model.put("canInternal", mayChange && !r.internal());
        model.put("canExternal", mayChange && r.internal());
        model.put("confirm", mayChange ? confirm : null);
        return pages.render(request, v, 200, "console/client", model);
    }

    /** One client of the list as the pages show it (a metadata-document client: what this node knows of its document). */
    private Row row(String tenant, ClientQuery.Listed l) {
        OAuthClient c = l.client();
        if (c == null) {
            Optional<ClientIdMetadataDocuments.Document> d = cimd.cached(l.clientId());
            return new Row(l.clientId(), d.map(ClientIdMetadataDocuments.Document::name).orElse(null), "cimd", false, "none",
                    d.map(ClientIdMetadataDocuments.Document::redirectUris).orElse(List.of()), null, null, l.lastToken());
        }
        Long lastToken = l.lastToken();
        if (lastToken == null && "dcr".equals(c.managedBy())) {
            // used before client_activity existed: the registration's own record of its last use
            lastToken = registrations.find(tenant, c.clientId()).map(Registration::usedAt).orElse(null);
        }
        return new Row(c.clientId(), c.name(), l.kind(), c.internal(), c.authMethod(), c.redirectUris(), c.createdAt(),
                c.updatedAt(), lastToken);
    }

    private static Map<String, Object> view(Row r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", r.id());
        m.put("name", r.name());
        m.put("kind", r.kind());
        m.put("internal", r.internal());
        m.put("authMethod", r.authMethod());
        m.put("redirectUris", r.redirectUris());
        m.put("createdAt", ConsoleTenantPages.time(r.createdAt()));
        m.put("updatedAt", ConsoleTenantPages.time(r.updatedAt()));
        m.put("lastToken", ConsoleTenantPages.time(r.lastToken()));
        return m;
    }

    /** What RFC 7591 registration kept: when, from where, the registered grant types, when it was last used. */
    @SuppressWarnings("unchecked")
    private static void registration(Map<String, Object> c, Registration reg) {
        c.put("registeredAt", ConsoleTenantPages.time(reg.issuedAt()));
        c.put("registeredFrom", reg.sourceAddress());
        try {
            Map<String, Object> meta = JSON.readValue(reg.metadataJson(), Map.class);
            if (meta.get("grant_types") instanceof List<?> g && !g.isEmpty()) {
                c.put("grantTypes", g.stream().map(String::valueOf).toList());
            }
        } catch (Exception e) {
            // the metadata was written by the broker; unreadable means nothing more to show
        }
        if (c.get("lastToken") == null) {
            c.put("lastToken", ConsoleTenantPages.time(reg.usedAt()));
        }
    }
}
