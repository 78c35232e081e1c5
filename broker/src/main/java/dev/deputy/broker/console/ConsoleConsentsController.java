package dev.deputy.broker.console;

import dev.deputy.broker.admin.ConsoleGate;
import dev.deputy.broker.agent.AgentException;
import dev.deputy.broker.authorize.Consent;
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
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The console's consents: {@code GET /console/t/<tenant>/consents} lists what users allowed external clients (filters:
 * {@code user} — the internal user id, the e-mail, the upstream {@code sub} or a part of the name — and {@code client}),
 * 100 to a page; {@code …/consents/revoke} is the confirmation step and its {@code POST} revokes through the admin
 * API's own path ({@link ConsentRevocation}: the consent goes, the user's refresh-token families at that client and
 * resource die with their access tokens, the revocation fans out, audited), decided by the admin API's authorization
 * for {@code DELETE /admin/t/<tenant>/consents/<user>/<client>/<resource>} (a privileged action: step-up).
 */
@Controller("/console/t/{tenant}/consents")
@Secured(SecurityRule.IS_ANONYMOUS)
@ExecuteOn(TaskExecutors.BLOCKING)
class ConsoleConsentsController {
    static final int PAGE_SIZE = 100;

    private final ConsoleCatalogPages pages;
    private final ConsentStore consents;
    private final UserStore users;
    private final ConsentRevocation revocation;

    ConsoleConsentsController(ConsoleCatalogPages pages, ConsentStore consents, UserStore users,
                              ConsentRevocation revocation) {
        this.pages = pages;
        this.consents = consents;
        this.users = users;
        this.revocation = revocation;
    }

    @Get(produces = MediaType.TEXT_HTML)
    HttpResponse<?> list(@PathVariable String tenant, HttpRequest<?> request, @Nullable Authentication auth,
                         @Nullable @QueryValue String user, @Nullable @QueryValue String client,
                         @Nullable @QueryValue String page) {
        String base = ConsoleCatalogPages.base(tenant, "consents");
        ConsoleCatalogPages.Visit v = pages.open(request, auth, tenant, HttpMethod.GET,
                ConsoleGate.apiPath(tenant, "consents"), null, base);
        if (v.stopped()) {
            return v.stop();
        }
        Map<String, User> byId = users.list(v.id()).stream().collect(Collectors.toMap(User::id, Function.identity(), (a, b) -> a));
        String u = ConsoleCatalogPages.trim(user);
        String c = ConsoleCatalogPages.trim(client);
        List<Consent> found = consents.list(v.id(), null).stream()
                .filter(x -> u == null || matches(byId.get(x.userId()), x.userId(), u))
                .filter(x -> c == null || x.clientId().equals(c)
                        || x.clientId().toLowerCase(Locale.ROOT).contains(c.toLowerCase(Locale.ROOT)))
                .sorted(Comparator.comparing(Consent::grantedAt).reversed().thenComparing(Consent::userId))
                .toList();
        int pageCount = Math.max(1, (found.size() + PAGE_SIZE - 1) / PAGE_SIZE);
        int n = Math.min(Math.max(1, parsePage(page)), pageCount);
        List<Map<String, Object>> rows = new ArrayList<>();
        for (Consent x : found.subList((n - 1) * PAGE_SIZE, Math.min(found.size(), n * PAGE_SIZE))) {
            Map<String, Object> m = row(x, byId.get(x.userId()));
            m.put("revoke", base + "/revoke?user=" + ConsoleCatalogPages.enc(x.userId()) + "&client="
                    + ConsoleCatalogPages.enc(x.clientId()) + "&resource=" + ConsoleCatalogPages.enc(x.resourceId()));
            rows.add(m);
        }
        Map<String, Object> model = pages.model(v);
        model.put("base", base);
        model.put("consents", rows);
        model.put("total", found.size());
        model.put("page", n);
        model.put("pages", pageCount);
        Map<String, String> f = new LinkedHashMap<>();
        f.put("user", u);
        f.put("client", c);
        model.put("f", f);
        String filters = (u == null ? "" : "&user=" + ConsoleCatalogPages.enc(u)) + (c == null ? "" : "&client=" + ConsoleCatalogPages.enc(c));
        model.put("prev", n > 1 ? base + "?page=" + (n - 1) + filters : null);
        model.put("next", n < pageCount ? base + "?page=" + (n + 1) + filters : null);
        return pages.render(request, v, 200, "console/consents", model);
    }

    /** The confirmation step of a revocation. */
    @Get(uri = "/revoke", produces = MediaType.TEXT_HTML)
    HttpResponse<?> confirm(@PathVariable String tenant, @Nullable @QueryValue String user, @Nullable @QueryValue String client,
                            @Nullable @QueryValue String resource, HttpRequest<?> request, @Nullable Authentication auth) {
        String base = ConsoleCatalogPages.base(tenant, "consents");
        if (user == null || client == null || resource == null) {
            return ConsoleCatalogPages.plainNotFound();
        }
        ConsoleCatalogPages.Visit v = pages.open(request, auth, tenant, HttpMethod.GET,
                ConsoleGate.apiPath(tenant, "consents"), null, base);
        if (v.stopped()) {
            return v.stop();
        }
        return consents.find(v.id(), user, client, resource).<HttpResponse<?>>map(x -> {
            Map<String, Object> model = pages.model(v);
            model.put("base", base);
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
            return ConsoleCatalogPages.plainNotFound();
        }
        String base = ConsoleCatalogPages.base(tenant, "consents");
        String path = ConsoleGate.apiPath(tenant, "consents", user, client, resource);
        ConsoleCatalogPages.Visit v = pages.open(request, auth, tenant, HttpMethod.DELETE, path, f.get("_csrf"), base);
        if (v.stopped()) {
            return v.stop();
        }
        boolean revoked = revocation.revokeConsent(v.id(), user, client, resource,
                ConsentRevocation.By.admin(dev.deputy.broker.agent.Actor.admin(v.admin().name()).label()), RequestMetaFilter.of(request));
        if (!revoked) {
            return pages.failed(request, v, HttpMethod.DELETE, path,
                    AgentException.notFound("no consent of " + user + " for " + client + " at " + resource), base);
        }
        return ConsoleCatalogPages.seeOther(base);
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
        m.put("grantedAt", ConsoleCatalogPages.time(x.grantedAt()));
        return m;
    }

    /** The user filter: the internal id or the upstream sub exactly, the e-mail in any case, a part of the name. */
    static boolean matches(@Nullable User u, String userId, String needle) {
        if (userId.equals(needle)) {
            return true;
        }
        if (u == null) {
            return false;
        }
        String lower = needle.toLowerCase(Locale.ROOT);
        return needle.equals(u.upstreamSub()) || (u.email() != null && u.email().toLowerCase(Locale.ROOT).equals(lower))
                || (u.name() != null && u.name().toLowerCase(Locale.ROOT).contains(lower));
    }

    private static int parsePage(String s) {
        try {
            return s == null ? 1 : Integer.parseInt(s.strip());
        } catch (NumberFormatException e) {
            return 1;
        }
    }
}
