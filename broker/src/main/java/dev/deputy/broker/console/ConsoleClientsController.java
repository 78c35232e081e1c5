package dev.deputy.broker.console;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.deputy.broker.admin.ClientAdmin;
import dev.deputy.broker.admin.ConsoleGate;
import dev.deputy.broker.agent.Actor;
import dev.deputy.broker.agent.AgentException;
import dev.deputy.broker.agent.ClientStore;
import dev.deputy.broker.agent.OAuthClient;
import dev.deputy.broker.authorize.Consent;
import dev.deputy.broker.authorize.ConsentStore;
import dev.deputy.broker.http.RequestMetaFilter;
import dev.deputy.broker.registration.ClientActivityStore;
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
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * The console's clients and registrations: {@code GET /console/t/<tenant>/clients} lists the tenant's OAuth clients of
 * every kind — from config files, registered through the admin API, registered by DCR, and Client ID Metadata
 * Document clients (URL client ids, which have no row: they are found where they left traces, their last token and the
 * consents users gave them) — with filters; {@code …/clients/show?id=} is one client; {@code …/clients/confirm} the
 * confirmation step of an action and {@code POST …/clients/(internal|external|delete)} the action, which is the admin
 * API's ({@code PATCH} / {@code DELETE /admin/t/<tenant>/clients/<id>}, {@link ClientAdmin}) and is decided by the
 * admin API's authorization for that route ({@link ConsoleGate}).
 */
@Controller("/console/t/{tenant}/clients")
@Secured(SecurityRule.IS_ANONYMOUS)
@ExecuteOn(TaskExecutors.BLOCKING)
class ConsoleClientsController {
    static final Set<String> KINDS = Set.of("config", "api", "dcr", "cimd");
    private static final Set<String> ACTIONS = Set.of("internal", "external", "delete");
    private static final List<String> DEFAULT_GRANTS = List.of("authorization_code", "refresh_token");
    private static final ObjectMapper JSON = new ObjectMapper();

    private final ConsoleCatalogPages pages;
    private final ClientStore clients;
    private final RegistrationStore registrations;
    private final ClientActivityStore activity;
    private final ConsentStore consents;
    private final ClientIdMetadataDocuments cimd;
    private final ClientAdmin admin;

    ConsoleClientsController(ConsoleCatalogPages pages, ClientStore clients, RegistrationStore registrations,
                             ClientActivityStore activity, ConsentStore consents, ClientIdMetadataDocuments cimd,
                             ClientAdmin admin) {
        this.pages = pages;
        this.clients = clients;
        this.registrations = registrations;
        this.activity = activity;
        this.consents = consents;
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
                         @Nullable @QueryValue String q) {
        String base = ConsoleCatalogPages.base(tenant, "clients");
        ConsoleCatalogPages.Visit v = pages.open(request, auth, tenant, HttpMethod.GET, ConsoleGate.apiPath(tenant, "clients"),
                null, base);
        if (v.stopped()) {
            return v.stop();
        }
        String k = ConsoleCatalogPages.trim(kind) != null && KINDS.contains(kind.strip()) ? kind.strip() : null;
        String a = "internal".equals(ConsoleCatalogPages.trim(audience)) || "external".equals(ConsoleCatalogPages.trim(audience))
                ? audience.strip() : null;
        String needle = ConsoleCatalogPages.trim(q) == null ? null : q.strip().toLowerCase(Locale.ROOT);
        List<Map<String, Object>> rows = new ArrayList<>();
        for (Row r : all(v.id())) {
            if ((k != null && !k.equals(r.kind())) || (a != null && r.internal() != "internal".equals(a))
                    || (needle != null && !r.id().toLowerCase(Locale.ROOT).contains(needle)
                    && (r.name() == null || !r.name().toLowerCase(Locale.ROOT).contains(needle)))) {
                continue;
            }
            Map<String, Object> m = view(r);
            m.put("href", base + "/show?id=" + ConsoleCatalogPages.enc(r.id()));
            rows.add(m);
        }
        Map<String, Object> model = pages.model(v);
        model.put("base", base);
        model.put("clients", rows);
        model.put("total", rows.size());
        Map<String, String> f = new LinkedHashMap<>();
        f.put("kind", k);
        f.put("audience", a);
        f.put("q", ConsoleCatalogPages.trim(q));
        model.put("f", f);
        model.put("kinds", List.of("config", "api", "dcr", "cimd"));
        return pages.render(request, v, 200, "console/clients", model);
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
        String id = form == null ? null : ConsoleCatalogPages.trim(form.get("id"));
        if (!ACTIONS.contains(action) || id == null) {
            return ConsoleCatalogPages.plainNotFound();
        }
        String base = ConsoleCatalogPages.base(tenant, "clients");
        String back = base + "/show?id=" + ConsoleCatalogPages.enc(id);
        HttpMethod method = "delete".equals(action) ? HttpMethod.DELETE : HttpMethod.PATCH;
        String path = ConsoleGate.apiPath(tenant, "clients", id);
        ConsoleCatalogPages.Visit v = pages.open(request, auth, tenant, method, path, form.get("_csrf"), back);
        if (v.stopped()) {
            return v.stop();
        }
        Actor actor = Actor.admin(v.admin().name());
        try {
            if ("delete".equals(action)) {
                admin.delete(v.id(), id, actor, RequestMetaFilter.of(request));
                return ConsoleCatalogPages.seeOther(base);
            }
            admin.setInternal(v.id(), id, "internal".equals(action), actor, RequestMetaFilter.of(request));
        } catch (AgentException e) {
            return pages.failed(request, v, method, path, e, back);
        }
        return ConsoleCatalogPages.seeOther(back);
    }

    private HttpResponse<?> detail(String tenant, @Nullable String id, @Nullable String confirm, HttpRequest<?> request,
                                   @Nullable Authentication auth) {
        String base = ConsoleCatalogPages.base(tenant, "clients");
        String clientId = ConsoleCatalogPages.trim(id);
        if (clientId == null || clientId.length() > 255) {
            return ConsoleCatalogPages.plainNotFound();
        }
        ConsoleCatalogPages.Visit v = pages.open(request, auth, tenant, HttpMethod.GET,
                ConsoleGate.apiPath(tenant, "clients", clientId), null, base);
        if (v.stopped()) {
            return v.stop();
        }
        Optional<Row> found = all(v.id()).stream().filter(r -> r.id().equals(clientId)).findFirst();
        if (found.isEmpty()) {
            return pages.notFound(request, v);
        }
        Row r = found.get();
        Map<String, Object> c = view(r);
        c.put("grantTypes", DEFAULT_GRANTS);
        if ("dcr".equals(r.kind())) {
            registrations.find(v.id(), r.id()).ifPresent(reg -> registration(c, reg));
        }
        if ("cimd".equals(r.kind())) {
            c.put("documentCached", cimd.cached(r.id()).isPresent());
        }
        Map<String, Object> model = pages.model(v);
        boolean changeable = "api".equals(r.kind()) || "dcr".equals(r.kind());
        boolean mayChange = (Boolean) model.get("mayChange") && changeable;
        model.put("base", base);
        model.put("client", c);
        model.put("href", base + "/show?id=" + ConsoleCatalogPages.enc(r.id()));
        model.put("confirmBase", base + "/confirm?id=" + ConsoleCatalogPages.enc(r.id()) + "&action=");
        model.put("canChange", mayChange);
        model.put("canInternal", mayChange && !r.internal());
        model.put("canExternal", mayChange && r.internal());
        model.put("confirm", mayChange ? confirm : null);
        return pages.render(request, v, 200, "console/client", model);
    }

    /** The tenant's clients of every kind, by id: rows (config, API, DCR), then the CIMD clients seen. */
    private List<Row> all(String tenant) {
        Map<String, Long> last = activity.lastTokens(tenant);
        List<Row> out = new ArrayList<>();
        Set<String> known = new TreeSet<>();
        for (OAuthClient c : clients.list(tenant)) {
            known.add(c.clientId());
            Long lastToken = last.get(c.clientId());
            if (lastToken == null && "dcr".equals(c.managedBy())) {
                // used before client_activity existed: the registration's own record of its last use
                lastToken = registrations.find(tenant, c.clientId()).map(Registration::usedAt).orElse(null);
            }
            out.add(new Row(c.clientId(), c.name(), kind(c.managedBy()), c.internal(), c.authMethod(), c.redirectUris(),
                    c.createdAt(), c.updatedAt(), lastToken));
        }
        Set<String> urls = new TreeSet<>();
        last.keySet().stream().filter(ClientIdMetadataDocuments::looksLikeUrl).forEach(urls::add);
        consents.list(tenant, null).stream().map(Consent::clientId).filter(ClientIdMetadataDocuments::looksLikeUrl)
                .forEach(urls::add);
        for (String url : urls) {
            if (known.contains(url)) {
                continue;
            }
            Optional<ClientIdMetadataDocuments.Document> d = cimd.cached(url);
            out.add(new Row(url, d.map(ClientIdMetadataDocuments.Document::name).orElse(null), "cimd", false, "none",
                    d.map(ClientIdMetadataDocuments.Document::redirectUris).orElse(List.of()), null, null, last.get(url)));
        }
        out.sort(Comparator.comparing(Row::id));
        return out;
    }

    private static String kind(String managedBy) {
        return KINDS.contains(managedBy) ? managedBy : "api";
    }

    private static Map<String, Object> view(Row r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", r.id());
        m.put("name", r.name());
        m.put("kind", r.kind());
        m.put("internal", r.internal());
        m.put("authMethod", r.authMethod());
        m.put("redirectUris", r.redirectUris());
        m.put("createdAt", ConsoleCatalogPages.time(r.createdAt()));
        m.put("updatedAt", ConsoleCatalogPages.time(r.updatedAt()));
        m.put("lastToken", ConsoleCatalogPages.time(r.lastToken()));
        return m;
    }

    /** What RFC 7591 registration kept: when, from where, the registered grant types, when it was last used. */
    @SuppressWarnings("unchecked")
    private static void registration(Map<String, Object> c, Registration reg) {
        c.put("registeredAt", ConsoleCatalogPages.time(reg.issuedAt()));
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
            c.put("lastToken", ConsoleCatalogPages.time(reg.usedAt()));
        }
    }
}
