package dev.deputy.broker.console;

import dev.deputy.broker.admin.ConsoleGate;
import dev.deputy.broker.agent.AgentException;
import dev.deputy.broker.authorize.Consent;
import dev.deputy.broker.authorize.ConsentQuery;
import dev.deputy.broker.authorize.ConsentRevocation;
import dev.deputy.broker.authorize.ConsentStore;
import dev.deputy.broker.federation.User;
import dev.deputy.broker.federation.UserStore;
import dev.deputy.broker.http.RequestMetaFilter;
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
import java.util.Map;

/**
 * The console's consents: {@code GET /console/t/<tenant>/consents} lists what users allowed external clients (filters:
 * {@code user} — the internal user id, the e-mail, the upstream {@code sub} or a part of the name — and {@code client}),
 * 100 to a page (filtered and paged in SQL, {@link ConsentQuery}: keyset pages newest first, {@code ?after=} /
 * {@code ?before=} cursors); {@code …/consents/revoke} is the confirmation step and its {@code POST} revokes through the admin
 * API's own path ({@link ConsentRevocation}: the consent goes, the user's refresh-token families at that client and
 * resource die with their access tokens, the revocation fans out, audited), decided by the admin API's authorization
 * for {@code DELETE /admin/t/<tenant>/consents/<user>/<client>/<resource>} (a privileged action: step-up).
 */
@Controller("/console/t/{tenant}/consents")
@Secured(SecurityRule.IS_ANONYMOUS)
@ExecuteOn(TaskExecutors.BLOCKING)
class ConsoleConsentsController {
    static final int PAGE_SIZE = 100;

    private final ConsoleTenantPages pages;
    private final ConsentStore consents;
    private final UserStore users;
    private final ConsentRevocation revocation;

    ConsoleConsentsController(ConsoleTenantPages pages, ConsentStore consents, UserStore users,
                              ConsentRevocation revocation) {
        this.pages = pages;
        this.consents = consents;
        this.users = users;
        this.revocation = revocation;
    }

    @Get(produces = MediaType.TEXT_HTML)
    HttpResponse<?> list(@PathVariable String tenant, HttpRequest<?> request, @Nullable Authentication auth,
                         @Nullable @QueryValue String user, @Nullable @QueryValue String client,
                         @Nullable @QueryValue String after, @Nullable @QueryValue String before,
                         @Nullable @QueryValue String page) {
        String base = ConsoleTenantPages.base(tenant, "consents");
        ConsoleTenantPages.Visit v = pages.open(request, auth, tenant, HttpMethod.GET,
                ConsoleGate.apiPath(tenant, "consents"), null, ConsoleTenantPages.Back.to(base));
        if (v.stopped()) {
            return v.stop();
        }
        String u = ConsoleTenantPages.trim(user);
        String c = ConsoleTenantPages.trim(client);
        ConsentQuery query = new ConsentQuery(u, c);
        ConsentQuery.Cursor from = ConsentQuery.Cursor.parse(after).orElse(null);
        ConsentQuery.Cursor to = from == null ? ConsentQuery.Cursor.parse(before).orElse(null) : null;
        // the filters and the page are the store's (SQL, keyset pages newest first): a page reads its own rows
        ConsentQuery.Page found = consents.page(v.id(), query, from, to, PAGE_SIZE);
        if (found.consents().isEmpty() && (from != null || to != null)) {
            // past either end (a stale link): the first page
            from = null;
            to = null;
            found = consents.page(v.id(), query, null, null, PAGE_SIZE);
        }
        int pageCount = Math.max(1, (found.total() + PAGE_SIZE - 1) / PAGE_SIZE);
        // the page number only labels the page (the cursor chooses it): carried by the links, kept in range
        int n = from == null && to == null ? 1 : Math.min(Math.max(1, parsePage(page)), pageCount);
        List<Consent> shown = found.consents();
        Map<String, User> byId = users.findAll(v.id(), shown.stream().map(Consent::userId).toList());
        List<Map<String, Object>> rows = new ArrayList<>();
        for (Consent x : shown) {
            Map<String, Object> m = row(x, byId.get(x.userId()));
            m.put("revoke", base + "/revoke?user=" + ConsoleTenantPages.enc(x.userId()) + "&client="
                    + ConsoleTenantPages.enc(x.clientId()) + "&resource=" + ConsoleTenantPages.enc(x.resourceId()));
            rows.add(m);
        }
        Map<String, Object> model = pages.model(v, base);
        model.put("consents", rows);
        model.put("total", found.total());
        model.put("page", n);
        model.put("pages", pageCount);
        Map<String, String> f = new LinkedHashMap<>();
        f.put("user", u);
        f.put("client", c);
        model.put("f", f);
        String filters = (u == null ? "" : "&user=" + ConsoleTenantPages.enc(u)) + (c == null ? "" : "&client=" + ConsoleTenantPages.enc(c));
        // forwards: a previous page when this one started after a cursor; backwards: a next page always
        boolean earlier = to != null ? found.more() : from != null;
        boolean later = to != null || found.more();
        model.put("prev", earlier && !shown.isEmpty() ? base + "?page=" + Math.max(1, n - 1) + "&before="
                + ConsentQuery.Cursor.of(shown.getFirst()).token() + filters : null);
        model.put("next", later && !shown.isEmpty() ? base + "?page=" + Math.min(pageCount, n + 1) + "&after="
                + ConsentQuery.Cursor.of(shown.getLast()).token() + filters : null);
        return pages.render(request, v, 200, "console/consents", model);
    }

    /** The confirmation step of a revocation. */
    @Get(uri = "/revoke", produces = MediaType.TEXT_HTML)
    HttpResponse<?> confirm(@PathVariable String tenant, @Nullable @QueryValue String user, @Nullable @QueryValue String client,
                            @Nullable @QueryValue String resource, HttpRequest<?> request, @Nullable Authentication auth) {
        String base = ConsoleTenantPages.base(tenant, "consents");
        if (user == null || client == null || resource == null) {
            return ConsoleTenantPages.plainNotFound();
        }
        ConsoleTenantPages.Visit v = pages.open(request, auth, tenant, HttpMethod.GET,
                ConsoleGate.apiPath(tenant, "consents"), null, ConsoleTenantPages.Back.to(base));
        if (v.stopped()) {
            return v.stop();
        }
        return consents.find(v.id(), user, client, resource).<HttpResponse<?>>map(x -> {
            Map<String, Object> model = pages.model(v, base);
            model.put("consent", row(x, users.find(v.id(), x.userId()).orElse(null)));
            return pages.render(request, v, 200, "console/consent-revoke", model);
        }).orElseGet(() -> pages.notFound(request, v));
    }

    @Post(uri = "/revoke", consumes = MediaType.APPLICATION_FORM_URLENCODED, produces = MediaType.TEXT_HTML)
    HttpResponse<?> revoke(@PathVariable String tenant, HttpRequest<?> request, @Nullable Authentication auth,
                           @Nullable @Body Map<String, String> form) {
        Map<String, String> f = form == null ? Map.of() : form;
        String user = f.get("user");
        String client = f.get("client");
        String resource = f.get("resource");
        if (user == null || client == null || resource == null) {
            return ConsoleTenantPages.plainNotFound();
        }
        String base = ConsoleTenantPages.base(tenant, "consents");
        String path = ConsoleGate.apiPath(tenant, "consents", user, client, resource);
        ConsoleTenantPages.Visit v = pages.open(request, auth, tenant, HttpMethod.DELETE, path, f.get("_csrf"), ConsoleTenantPages.Back.to(base));
        if (v.stopped()) {
            return v.stop();
        }
        boolean revoked = revocation.revokeConsent(v.id(), user, client, resource,
                ConsentRevocation.By.admin(dev.deputy.broker.agent.Actor.admin(v.admin().name()).label()), RequestMetaFilter.of(request));
        if (!revoked) {
            return pages.failed(request, v, HttpMethod.DELETE, path,
                    AgentException.notFound("no consent of " + user + " for " + client + " at " + resource), ConsoleTenantPages.Back.to(base));
        }
        return ConsoleTenantPages.seeOther(base);
    }

    private static Map<String, Object> row(Consent x, @Nullable User u) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("userId", x.userId());
        m.put("email", u == null ? null : u.email());
        m.put("name", u == null ? null : u.name());
        m.put("sub", u == null ? null : u.upstreamSub());
        m.put("client", x.clientId());
        m.put("resource", x.resourceId());
        m.put("scopes", x.scopes());
        m.put("grantedAt", ConsoleTenantPages.time(x.grantedAt()));
        return m;
    }

    private static int parsePage(String s) {
        try {
            return s == null ? 1 : Integer.parseInt(s.strip());
        } catch (NumberFormatException e) {
            return 1;
        }
    }
}
