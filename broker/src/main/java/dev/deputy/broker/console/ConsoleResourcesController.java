package dev.deputy.broker.console;

import dev.deputy.broker.admin.AdminRefusal;
import dev.deputy.broker.admin.ConsoleGate;
import dev.deputy.broker.admin.PrivilegedRoles;
import dev.deputy.broker.agent.Actor;
import dev.deputy.broker.agent.Agent;
import dev.deputy.broker.agent.AgentException;
import dev.deputy.broker.agent.Agents;
import dev.deputy.broker.agent.Catalog;
import dev.deputy.broker.agent.Resource;
import dev.deputy.broker.agent.Role;
import dev.deputy.broker.authorize.ScopeDescriptions;
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
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The console's resources and roles: {@code GET /console/t/<tenant>/resources} shows the tenant's resources (MCP
 * servers: id, canonical URI, scopes with the operator's descriptions) and roles (the scopes each grants, whether it is
 * privileged, the agents that hold it); the edit and delete forms do what the admin API's {@code ResourcesController}
 * and {@code RolesController} do ({@link Catalog}), decided by the admin API's authorization for those routes
 * ({@link ConsoleGate}). Replacing or deleting a privileged role needs step-up, as it does through the API
 * ({@link PrivilegedRoles}).
 */
@Controller("/console/t/{tenant}/resources")
@Secured(SecurityRule.IS_ANONYMOUS)
@ExecuteOn(TaskExecutors.BLOCKING)
class ConsoleResourcesController {
    /** How many holders of a role the list names (the rest are counted). */
    static final int HOLDERS_SHOWN = 20;

    private final ConsoleCatalogPages pages;
    private final Catalog catalog;
    private final Agents agents;
    private final ScopeDescriptions descriptions;
    private final PrivilegedRoles privileged;

    ConsoleResourcesController(ConsoleCatalogPages pages, Catalog catalog, Agents agents, ScopeDescriptions descriptions,
                               PrivilegedRoles privileged) {
        this.pages = pages;
        this.catalog = catalog;
        this.agents = agents;
        this.descriptions = descriptions;
        this.privileged = privileged;
    }

    @Get(produces = MediaType.TEXT_HTML)
    HttpResponse<?> list(@PathVariable String tenant, HttpRequest<?> request, @Nullable Authentication auth) {
        String base = ConsoleCatalogPages.base(tenant, "resources");
        ConsoleCatalogPages.Visit v = pages.open(request, auth, tenant, HttpMethod.GET,
                ConsoleGate.apiPath(tenant, "resources"), null, base);
        if (v.stopped()) {
            return v.stop();
        }
        ConsoleCatalogPages.Visit roles = pages.open(request, auth, tenant, HttpMethod.GET,
                ConsoleGate.apiPath(tenant, "roles"), null, base);
        if (roles.stopped()) {
            return roles.stop();
        }
        List<Map<String, Object>> resources = new ArrayList<>();
        for (Resource r : catalog.resources(v.id())) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("id", r.id());
            m.put("uri", r.uri());
            m.put("name", r.name());
            m.put("dflt", r.isDefault());
            m.put("managedBy", r.managedBy());
            m.put("scopes", descriptions.describe(v.id(), r.id(), r.scopes()));
            m.put("edit", base + "/resource?id=" + ConsoleCatalogPages.enc(r.id()));
            m.put("delete", base + "/resource/delete?id=" + ConsoleCatalogPages.enc(r.id()));
            resources.add(m);
        }
        List<Agent> held = agents.list(v.id(), null, false, pages.dormancy(v.id()), System.currentTimeMillis()).stream()
                .filter(a -> a.status() != Agent.Status.REVOKED).toList();
        List<Map<String, Object>> roleRows = new ArrayList<>();
        for (Role r : catalog.roles(v.id())) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", r.name());
            m.put("description", r.description());
            m.put("scopes", r.scopes());
            m.put("environments", r.environments());
            m.put("managedBy", r.managedBy());
            m.put("privileged", privileged.privileged(v.id(), r));
            List<String> holders = held.stream().filter(a -> a.roles().contains(r.name())).map(Agent::id).sorted().toList();
            m.put("holders", holders.subList(0, Math.min(HOLDERS_SHOWN, holders.size())));
            m.put("moreHolders", Math.max(0, holders.size() - HOLDERS_SHOWN));
            m.put("edit", base + "/role?name=" + ConsoleCatalogPages.enc(r.name()));
            m.put("delete", base + "/role/delete?name=" + ConsoleCatalogPages.enc(r.name()));
            roleRows.add(m);
        }
        Map<String, Object> model = pages.model(v);
        model.put("base", base);
        model.put("agentsBase", ConsoleCatalogPages.base(tenant, "agents"));
        model.put("resources", resources);
        model.put("roles", roleRows);
        return pages.render(request, v, 200, "console/resources", model);
    }

    // ---- resources

    /** The edit form of a resource ({@code ?id=}), or an empty one for a new resource. */
    @Get(uri = "/resource", produces = MediaType.TEXT_HTML)
    HttpResponse<?> resourceForm(@PathVariable String tenant, @Nullable @QueryValue String id, HttpRequest<?> request,
                                 @Nullable Authentication auth) {
        String base = ConsoleCatalogPages.base(tenant, "resources");
        String rid = ConsoleCatalogPages.trim(id);
        ConsoleCatalogPages.Visit v = pages.open(request, auth, tenant, HttpMethod.GET,
                rid == null ? ConsoleGate.apiPath(tenant, "resources") : ConsoleGate.apiPath(tenant, "resources", rid), null, base);
        if (v.stopped()) {
            return v.stop();
        }
        Map<String, String> form = new LinkedHashMap<>();
        if (rid != null) {
            Optional<Resource> r = catalog.resources(v.id()).stream().filter(x -> x.id().equals(rid)).findFirst();
            if (r.isEmpty()) {
                return pages.notFound(request, v);
            }
            form.put("id", r.get().id());
            form.put("uri", r.get().uri());
            form.put("name", r.get().name());
            form.put("scopes", String.join(" ", r.get().scopes()));
            form.put("default", r.get().isDefault() ? "on" : null);
        }
        return resourcePage(request, v, base, rid == null, form, null, 200);
    }

    @Post(uri = "/resource", consumes = MediaType.APPLICATION_FORM_URLENCODED, produces = MediaType.TEXT_HTML)
    HttpResponse<?> saveResource(@PathVariable String tenant, HttpRequest<?> request, @Nullable Authentication auth,
                                 @Nullable @Body Map<String, String> form) {
        Map<String, String> f = form == null ? Map.of() : form;
        String base = ConsoleCatalogPages.base(tenant, "resources");
        boolean create = !"replace".equals(f.get("mode"));
        String rid = ConsoleCatalogPages.trim(f.get("id"));
        if (!create && rid == null) {
            return ConsoleCatalogPages.plainNotFound();
        }
        HttpMethod method = create ? HttpMethod.POST : HttpMethod.PUT;
        String path = create ? ConsoleGate.apiPath(tenant, "resources") : ConsoleGate.apiPath(tenant, "resources", rid);
        ConsoleCatalogPages.Visit v = pages.open(request, auth, tenant, method, path, f.get("_csrf"), base);
        if (v.stopped()) {
            return v.stop();
        }
        Actor actor = Actor.admin(v.admin().name());
        try {
            Resource r = new Resource(v.id(), rid, ConsoleCatalogPages.trim(f.get("uri")), ConsoleCatalogPages.trim(f.get("name")),
                    words(f.get("scopes")), f.get("default") != null, create ? "api" : null);
            if (create) {
                catalog.createResource(v.id(), r, actor, RequestMetaFilter.of(request));
            } else {
                catalog.updateResource(v.id(), r, actor, RequestMetaFilter.of(request));
            }
        } catch (AgentException e) {
            if (e.kind() == AgentException.Kind.NOT_FOUND) {
                return pages.failed(request, v, method, path, e, base);
            }
            // the form again, with the reason, the input kept; audited as the API's error
            pages.audit(request, method, path, e);
            return resourcePage(request, v, base, create, f, e.getMessage(), e.kind().status());
        }
        return ConsoleCatalogPages.seeOther(base + "#resources-h");
    }

    private HttpResponse<?> resourcePage(HttpRequest<?> request, ConsoleCatalogPages.Visit v, String base, boolean create,
                                         Map<String, String> form, @Nullable String error, int status) {
        Map<String, Object> model = pages.model(v);
        model.put("base", base);
        model.put("create", create);
        model.put("r", form);
        model.put("error", error);
        return pages.render(request, v, status, "console/resource-form", model);
    }

    @Get(uri = "/resource/delete", produces = MediaType.TEXT_HTML)
    HttpResponse<?> confirmResourceDelete(@PathVariable String tenant, @Nullable @QueryValue String id,
                                          HttpRequest<?> request, @Nullable Authentication auth) {
        String rid = ConsoleCatalogPages.trim(id);
        if (rid == null) {
            return ConsoleCatalogPages.plainNotFound();
        }
        String base = ConsoleCatalogPages.base(tenant, "resources");
        ConsoleCatalogPages.Visit v = pages.open(request, auth, tenant, HttpMethod.GET,
                ConsoleGate.apiPath(tenant, "resources", rid), null, base);
        if (v.stopped()) {
            return v.stop();
        }
        if (catalog.resources(v.id()).stream().noneMatch(r -> r.id().equals(rid))) {
            return pages.notFound(request, v);
        }
        return confirmPage(request, v, base, "resource", rid, base + "/resource/delete");
    }

    @Post(uri = "/resource/delete", consumes = MediaType.APPLICATION_FORM_URLENCODED, produces = MediaType.TEXT_HTML)
    HttpResponse<?> deleteResource(@PathVariable String tenant, HttpRequest<?> request, @Nullable Authentication auth,
                                   @Nullable @Body Map<String, String> form) {
        String rid = form == null ? null : ConsoleCatalogPages.trim(form.get("id"));
        if (rid == null) {
            return ConsoleCatalogPages.plainNotFound();
        }
        String base = ConsoleCatalogPages.base(tenant, "resources");
        String path = ConsoleGate.apiPath(tenant, "resources", rid);
        ConsoleCatalogPages.Visit v = pages.open(request, auth, tenant, HttpMethod.DELETE, path, form.get("_csrf"), base);
        if (v.stopped()) {
            return v.stop();
        }
        try {
            catalog.deleteResource(v.id(), rid, Actor.admin(v.admin().name()), RequestMetaFilter.of(request));
        } catch (AgentException e) {
            return pages.failed(request, v, HttpMethod.DELETE, path, e, base);
        }
        return ConsoleCatalogPages.seeOther(base + "#resources-h");
    }

    // ---- roles

    /** The edit form of a role ({@code ?name=}), or an empty one for a new role. */
    @Get(uri = "/role", produces = MediaType.TEXT_HTML)
    HttpResponse<?> roleForm(@PathVariable String tenant, @Nullable @QueryValue String name, HttpRequest<?> request,
                             @Nullable Authentication auth) {
        String base = ConsoleCatalogPages.base(tenant, "resources");
        String n = ConsoleCatalogPages.trim(name);
        ConsoleCatalogPages.Visit v = pages.open(request, auth, tenant, HttpMethod.GET,
                n == null ? ConsoleGate.apiPath(tenant, "roles") : ConsoleGate.apiPath(tenant, "roles", n), null, base);
        if (v.stopped()) {
            return v.stop();
        }
        Map<String, String> form = new LinkedHashMap<>();
        boolean isPrivileged = false;
        if (n != null) {
            Optional<Role> r = catalog.findRole(v.id(), n);
            if (r.isEmpty()) {
                return pages.notFound(request, v);
            }
            form.put("name", r.get().name());
            form.put("description", r.get().description());
            form.put("scopes", String.join(" ", r.get().scopes()));
            form.put("environments", String.join(" ", r.get().environments()));
            isPrivileged = privileged.privileged(v.id(), r.get());
        }
        return rolePage(request, v, base, n == null, form, isPrivileged, null, 200);
    }

    @Post(uri = "/role", consumes = MediaType.APPLICATION_FORM_URLENCODED, produces = MediaType.TEXT_HTML)
    HttpResponse<?> saveRole(@PathVariable String tenant, HttpRequest<?> request, @Nullable Authentication auth,
                             @Nullable @Body Map<String, String> form) {
        Map<String, String> f = form == null ? Map.of() : form;
        String base = ConsoleCatalogPages.base(tenant, "resources");
        boolean create = !"replace".equals(f.get("mode"));
        String n = ConsoleCatalogPages.trim(f.get("name"));
        if (n == null && !create) {
            return ConsoleCatalogPages.plainNotFound();
        }
        HttpMethod method = create ? HttpMethod.POST : HttpMethod.PUT;
        String path = create ? ConsoleGate.apiPath(tenant, "roles") : ConsoleGate.apiPath(tenant, "roles", n);
        ConsoleCatalogPages.Visit v = pages.open(request, auth, tenant, method, path, f.get("_csrf"), base);
        if (v.stopped()) {
            return v.stop();
        }
        Optional<Role> existing = n == null ? Optional.empty() : catalog.findRole(v.id(), n);
        boolean isPrivileged = existing.map(r -> privileged.privileged(v.id(), r)).orElse(false);
        Actor actor = Actor.admin(v.admin().name());
        try {
            if (!create && existing.isPresent()) {
                privileged.requireForChange(v.admin(), v.id(), existing.get(), request, method, path);
            }
            Role r = new Role(v.id(), n, ConsoleCatalogPages.trim(f.get("description")), words(f.get("scopes")),
                    words(f.get("environments")), create ? "api" : null);
            if (create) {
                catalog.createRole(v.id(), r, actor, RequestMetaFilter.of(request));
            } else {
                catalog.updateRole(v.id(), r, actor, RequestMetaFilter.of(request));
            }
        } catch (AdminRefusal e) {
            return pages.refused(request, v.tenant(), e, base + "/role?name=" + ConsoleCatalogPages.enc(n));
        } catch (AgentException e) {
            if (e.kind() == AgentException.Kind.NOT_FOUND) {
                return pages.failed(request, v, method, path, e, base);
            }
            pages.audit(request, method, path, e);
            return rolePage(request, v, base, create, f, isPrivileged, e.getMessage(), e.kind().status());
        }
        return ConsoleCatalogPages.seeOther(base + "#roles-h");
    }

    private HttpResponse<?> rolePage(HttpRequest<?> request, ConsoleCatalogPages.Visit v, String base, boolean create,
                                     Map<String, String> form, boolean isPrivileged, @Nullable String error, int status) {
        Map<String, Object> model = pages.model(v);
        model.put("base", base);
        model.put("create", create);
        model.put("r", form);
        model.put("privileged", isPrivileged);
        model.put("error", error);
        return pages.render(request, v, status, "console/role-form", model);
    }

    @Get(uri = "/role/delete", produces = MediaType.TEXT_HTML)
    HttpResponse<?> confirmRoleDelete(@PathVariable String tenant, @Nullable @QueryValue String name,
                                      HttpRequest<?> request, @Nullable Authentication auth) {
        String n = ConsoleCatalogPages.trim(name);
        if (n == null) {
            return ConsoleCatalogPages.plainNotFound();
        }
        String base = ConsoleCatalogPages.base(tenant, "resources");
        ConsoleCatalogPages.Visit v = pages.open(request, auth, tenant, HttpMethod.GET,
                ConsoleGate.apiPath(tenant, "roles", n), null, base);
        if (v.stopped()) {
            return v.stop();
        }
        if (catalog.findRole(v.id(), n).isEmpty()) {
            return pages.notFound(request, v);
        }
        return confirmPage(request, v, base, "role", n, base + "/role/delete");
    }

    @Post(uri = "/role/delete", consumes = MediaType.APPLICATION_FORM_URLENCODED, produces = MediaType.TEXT_HTML)
    HttpResponse<?> deleteRole(@PathVariable String tenant, HttpRequest<?> request, @Nullable Authentication auth,
                               @Nullable @Body Map<String, String> form) {
        String n = form == null ? null : ConsoleCatalogPages.trim(form.get("id"));
        if (n == null) {
            return ConsoleCatalogPages.plainNotFound();
        }
        String base = ConsoleCatalogPages.base(tenant, "resources");
        String path = ConsoleGate.apiPath(tenant, "roles", n);
        ConsoleCatalogPages.Visit v = pages.open(request, auth, tenant, HttpMethod.DELETE, path, form.get("_csrf"), base);
        if (v.stopped()) {
            return v.stop();
        }
        try {
            Optional<Role> role = catalog.findRole(v.id(), n);
            if (role.isPresent()) {
                privileged.requireForChange(v.admin(), v.id(), role.get(), request, HttpMethod.DELETE, path);
            }
            catalog.deleteRole(v.id(), n, Actor.admin(v.admin().name()), RequestMetaFilter.of(request));
        } catch (AdminRefusal e) {
            return pages.refused(request, v.tenant(), e, base);
        } catch (AgentException e) {
            return pages.failed(request, v, HttpMethod.DELETE, path, e, base);
        }
        return ConsoleCatalogPages.seeOther(base + "#roles-h");
    }

    private HttpResponse<?> confirmPage(HttpRequest<?> request, ConsoleCatalogPages.Visit v, String base, String what,
                                        String id, String action) {
        Map<String, Object> model = pages.model(v);
        model.put("base", base);
        model.put("what", what);
        model.put("id", id);
        model.put("action", action);
        return pages.render(request, v, 200, "console/catalog-delete", model);
    }

    /** Space- or comma-separated words of a form field. */
    static List<String> words(@Nullable String s) {
        if (s == null || s.isBlank()) {
            return List.of();
        }
        return Arrays.stream(s.strip().split("[\\s,]+")).filter(w -> !w.isEmpty()).toList();
    }
}
