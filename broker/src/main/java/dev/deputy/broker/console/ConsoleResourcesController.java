package dev.deputy.broker.console;

import dev.deputy.broker.admin.AdminPrincipal;
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
import dev.deputy.broker.audit.RequestMeta;
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

    private final ConsoleTenantPages pages;
    private final Catalog catalog;
    private final Agents agents;
    private final ScopeDescriptions descriptions;
    private final PrivilegedRoles privileged;

    ConsoleResourcesController(ConsoleTenantPages pages, Catalog catalog, Agents agents, ScopeDescriptions descriptions,
                               PrivilegedRoles privileged) {
        this.pages = pages;
        this.catalog = catalog;
        this.agents = agents;
        this.descriptions = descriptions;
        this.privileged = privileged;
    }

    @Get(produces = MediaType.TEXT_HTML)
    HttpResponse<?> list(@PathVariable String tenant, HttpRequest<?> request, @Nullable Authentication auth) {
        String base = ConsoleTenantPages.base(tenant, "resources");
        ConsoleTenantPages.Visit resourcesRead = pages.open(request, auth, tenant, HttpMethod.GET,
                ConsoleGate.apiPath(tenant, "resources"), null, ConsoleTenantPages.Back.to(base));
        if (resourcesRead.stopped()) {
            return resourcesRead.stop();
        }
        // the page shows the roles too: the API's access to both
        ConsoleTenantPages.Visit v = pages.allow(request, resourcesRead, HttpMethod.GET, ConsoleGate.apiPath(tenant, "roles"),
                null, ConsoleTenantPages.Back.to(base));
        if (v.stopped()) {
            return v.stop();
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
            m.put("edit", base + "/resource?id=" + ConsoleTenantPages.enc(r.id()));
            m.put("delete", base + "/resource/delete?id=" + ConsoleTenantPages.enc(r.id()));
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
            m.put("edit", base + "/role?name=" + ConsoleTenantPages.enc(r.name()));
            m.put("delete", base + "/role/delete?name=" + ConsoleTenantPages.enc(r.name()));
            roleRows.add(m);
        }
        Map<String, Object> model = pages.model(v, base);
        model.put("agentsBase", ConsoleTenantPages.base(tenant, "agents"));
        model.put("resources", resources);
        model.put("roles", roleRows);
        return pages.render(request, v, 200, "console/resources", model);
    }

    // ---- the edit and delete forms: one path for resources and roles

    /**
     * What the forms of a resource and of a role differ in; everything else (the visit, the create-or-replace switch,
     * the refusals, bad input shown on the form again and audited, the confirmation step, deleting) is one path.
     */
    private interface Editable {
        /** {@code resource} or {@code role}: the form's sub-path, and what the confirmation page names. */
        String what();

        /** The query parameter and form field that names one ({@code id} or {@code name}). */
        String key();

        /** The admin API's collection ({@code /admin/t/<tenant>/<api>[/<key>]}). */
        String api();

        /** The list's anchor a change returns to. */
        String anchor();

        /** The form's values of an existing one. */
        Optional<Map<String, String>> load(String tenant, String key);

        /** Whether changing or deleting it needs step-up ({@link PrivilegedRoles}); throws the refusal, audited. */
        void requireForChange(AdminPrincipal p, String tenant, @Nullable String key, HttpRequest<?> request,
                              HttpMethod method, String path);

        /** What the form page shows beyond the values ({@code privileged} for a role). */
        void model(String tenant, @Nullable String key, Map<String, Object> model);

        void save(String tenant, boolean create, @Nullable String key, Map<String, String> f, Actor actor, RequestMeta meta);

        void delete(String tenant, String key, Actor actor, RequestMeta meta);
    }

    private final Editable resource = new Editable() {
        public String what() {
            return "resource";
        }

        public String key() {
            return "id";
        }

        public String api() {
            return "resources";
        }

        public String anchor() {
            return "#resources-h";
        }

        public Optional<Map<String, String>> load(String tenant, String id) {
            return catalog.resources(tenant).stream().filter(x -> x.id().equals(id)).findFirst().map(r -> {
                Map<String, String> form = new LinkedHashMap<>();
                form.put("id", r.id());
                form.put("uri", r.uri());
                form.put("name", r.name());
                form.put("scopes", String.join(" ", r.scopes()));
                form.put("default", r.isDefault() ? "on" : null);
                return form;
            });
        }

        public void requireForChange(AdminPrincipal p, String tenant, @Nullable String key, HttpRequest<?> request,
                                     HttpMethod method, String path) {
            // a resource change needs no more than the route's own access
        }

        public void model(String tenant, @Nullable String key, Map<String, Object> model) {
        }

        public void save(String tenant, boolean create, @Nullable String id, Map<String, String> f, Actor actor,
                         RequestMeta meta) {
            Resource r = new Resource(tenant, id, ConsoleTenantPages.trim(f.get("uri")), ConsoleTenantPages.trim(f.get("name")),
                    words(f.get("scopes")), f.get("default") != null, create ? "api" : null);
            if (create) {
                catalog.createResource(tenant, r, actor, meta);
            } else {
                catalog.updateResource(tenant, r, actor, meta);
            }
        }

        public void delete(String tenant, String id, Actor actor, RequestMeta meta) {
            catalog.deleteResource(tenant, id, actor, meta);
        }
    };

    private final Editable role = new Editable() {
        public String what() {
            return "role";
        }

        public String key() {
            return "name";
        }

        public String api() {
            return "roles";
        }

        public String anchor() {
            return "#roles-h";
        }

        public Optional<Map<String, String>> load(String tenant, String name) {
            return catalog.findRole(tenant, name).map(r -> {
                Map<String, String> form = new LinkedHashMap<>();
                form.put("name", r.name());
                form.put("description", r.description());
                form.put("scopes", String.join(" ", r.scopes()));
                form.put("environments", String.join(" ", r.environments()));
                return form;
            });
        }

        public void requireForChange(AdminPrincipal p, String tenant, @Nullable String name, HttpRequest<?> request,
                                     HttpMethod method, String path) {
            Optional<Role> existing = name == null ? Optional.empty() : catalog.findRole(tenant, name);
            if (existing.isPresent()) {
                privileged.requireForChange(p, tenant, existing.get(), request, method, path);
            }
        }

        public void model(String tenant, @Nullable String name, Map<String, Object> model) {
            model.put("privileged", name != null && catalog.findRole(tenant, name)
                    .map(r -> privileged.privileged(tenant, r)).orElse(false));
        }

        public void save(String tenant, boolean create, @Nullable String name, Map<String, String> f, Actor actor,
                         RequestMeta meta) {
            Role r = new Role(tenant, name, ConsoleTenantPages.trim(f.get("description")), words(f.get("scopes")),
                    words(f.get("environments")), create ? "api" : null);
            if (create) {
                catalog.createRole(tenant, r, actor, meta);
            } else {
                catalog.updateRole(tenant, r, actor, meta);
            }
        }

        public void delete(String tenant, String name, Actor actor, RequestMeta meta) {
            catalog.deleteRole(tenant, name, actor, meta);
        }
    };

    /** The edit form of a resource ({@code ?id=}), or an empty one for a new resource. */
    @Get(uri = "/resource", produces = MediaType.TEXT_HTML)
    HttpResponse<?> resourceForm(@PathVariable String tenant, @Nullable @QueryValue String id, HttpRequest<?> request,
                                 @Nullable Authentication auth) {
        return form(resource, tenant, id, request, auth);
    }

    @Post(uri = "/resource", consumes = MediaType.APPLICATION_FORM_URLENCODED, produces = MediaType.TEXT_HTML)
    HttpResponse<?> saveResource(@PathVariable String tenant, HttpRequest<?> request, @Nullable Authentication auth,
                                 @Nullable @Body Map<String, String> form) {
        return save(resource, tenant, request, auth, form);
    }

    @Get(uri = "/resource/delete", produces = MediaType.TEXT_HTML)
    HttpResponse<?> confirmResourceDelete(@PathVariable String tenant, @Nullable @QueryValue String id,
                                          HttpRequest<?> request, @Nullable Authentication auth) {
        return confirmDelete(resource, tenant, id, request, auth);
    }

    @Post(uri = "/resource/delete", consumes = MediaType.APPLICATION_FORM_URLENCODED, produces = MediaType.TEXT_HTML)
    HttpResponse<?> deleteResource(@PathVariable String tenant, HttpRequest<?> request, @Nullable Authentication auth,
                                   @Nullable @Body Map<String, String> form) {
        return delete(resource, tenant, request, auth, form);
    }

    /** The edit form of a role ({@code ?name=}), or an empty one for a new role. */
    @Get(uri = "/role", produces = MediaType.TEXT_HTML)
    HttpResponse<?> roleForm(@PathVariable String tenant, @Nullable @QueryValue String name, HttpRequest<?> request,
                             @Nullable Authentication auth) {
        return form(role, tenant, name, request, auth);
    }

    @Post(uri = "/role", consumes = MediaType.APPLICATION_FORM_URLENCODED, produces = MediaType.TEXT_HTML)
    HttpResponse<?> saveRole(@PathVariable String tenant, HttpRequest<?> request, @Nullable Authentication auth,
                             @Nullable @Body Map<String, String> form) {
        return save(role, tenant, request, auth, form);
    }

    @Get(uri = "/role/delete", produces = MediaType.TEXT_HTML)
    HttpResponse<?> confirmRoleDelete(@PathVariable String tenant, @Nullable @QueryValue String name,
                                      HttpRequest<?> request, @Nullable Authentication auth) {
        return confirmDelete(role, tenant, name, request, auth);
    }

    @Post(uri = "/role/delete", consumes = MediaType.APPLICATION_FORM_URLENCODED, produces = MediaType.TEXT_HTML)
    HttpResponse<?> deleteRole(@PathVariable String tenant, HttpRequest<?> request, @Nullable Authentication auth,
                               @Nullable @Body Map<String, String> form) {
        return delete(role, tenant, request, auth, form);
    }

    /** The edit form of an existing one ({@code key} given), or an empty one to create. */
    private HttpResponse<?> form(Editable kind, String tenant, @Nullable String key, HttpRequest<?> request,
                                 @Nullable Authentication auth) {
        String base = ConsoleTenantPages.base(tenant, "resources");
        String k = ConsoleTenantPages.trim(key);
        ConsoleTenantPages.Visit v = pages.open(request, auth, tenant, HttpMethod.GET,
                k == null ? ConsoleGate.apiPath(tenant, kind.api()) : ConsoleGate.apiPath(tenant, kind.api(), k), null,
                ConsoleTenantPages.Back.to(base));
        if (v.stopped()) {
            return v.stop();
        }
        Map<String, String> form = new LinkedHashMap<>();
        if (k != null) {
            Optional<Map<String, String>> found = kind.load(v.id(), k);
            if (found.isEmpty()) {
                return pages.notFound(request, v);
            }
            form = found.get();
        }
        return formPage(kind, request, v, base, k == null, k, form, null, 200);
    }

    /** Creates ({@code mode} other than {@code replace}) or replaces, as the admin API's POST or PUT. */
    private HttpResponse<?> save(Editable kind, String tenant, HttpRequest<?> request, @Nullable Authentication auth,
                                 @Nullable Map<String, String> form) {
        Map<String, String> f = form == null ? Map.of() : form;
        String base = ConsoleTenantPages.base(tenant, "resources");
        boolean create = !"replace".equals(f.get("mode"));
        String k = ConsoleTenantPages.trim(f.get(kind.key()));
        if (!create && k == null) {
            return ConsoleTenantPages.plainNotFound();
        }
        HttpMethod method = create ? HttpMethod.POST : HttpMethod.PUT;
        String path = create ? ConsoleGate.apiPath(tenant, kind.api()) : ConsoleGate.apiPath(tenant, kind.api(), k);
        ConsoleTenantPages.Visit v = pages.open(request, auth, tenant, method, path, f.get("_csrf"),
                ConsoleTenantPages.Back.to(base));
        if (v.stopped()) {
            return v.stop();
        }
        Actor actor = Actor.admin(v.admin().name());
        try {
            if (!create) {
                kind.requireForChange(v.admin(), v.id(), k, request, method, path);
            }
            kind.save(v.id(), create, k, f, actor, RequestMetaFilter.of(request));
        } catch (AdminRefusal e) {
            return pages.refused(request, v.tenant(), e, ConsoleTenantPages.Back.to(
                    base + "/" + kind.what() + "?" + kind.key() + "=" + ConsoleTenantPages.enc(k)));
        } catch (AgentException e) {
            if (e.kind() == AgentException.Kind.NOT_FOUND) {
                return pages.failed(request, v, method, path, e, ConsoleTenantPages.Back.to(base));
            }
            // the form again, with the reason, the input kept; audited as the API's error
            pages.audit(request, method, path, e);
            return formPage(kind, request, v, base, create, k, f, e.getMessage(), e.kind().status());
        }
        return ConsoleTenantPages.seeOther(base + kind.anchor());
    }

    private HttpResponse<?> formPage(Editable kind, HttpRequest<?> request, ConsoleTenantPages.Visit v, String base,
                                     boolean create, @Nullable String key, Map<String, String> form,
                                     @Nullable String error, int status) {
        Map<String, Object> model = pages.model(v, base);
        model.put("create", create);
        model.put("r", form);
        kind.model(v.id(), key, model);
        model.put("error", error);
        return pages.render(request, v, status, "console/" + kind.what() + "-form", model);
    }

    /** The confirmation step of a deletion. */
    private HttpResponse<?> confirmDelete(Editable kind, String tenant, @Nullable String key, HttpRequest<?> request,
                                          @Nullable Authentication auth) {
        String k = ConsoleTenantPages.trim(key);
        if (k == null) {
            return ConsoleTenantPages.plainNotFound();
        }
        String base = ConsoleTenantPages.base(tenant, "resources");
        ConsoleTenantPages.Visit v = pages.open(request, auth, tenant, HttpMethod.GET,
                ConsoleGate.apiPath(tenant, kind.api(), k), null, ConsoleTenantPages.Back.to(base));
        if (v.stopped()) {
            return v.stop();
        }
        if (kind.load(v.id(), k).isEmpty()) {
            return pages.notFound(request, v);
        }
        Map<String, Object> model = pages.model(v, base);
        model.put("what", kind.what());
        model.put("id", k);
        model.put("action", base + "/" + kind.what() + "/delete");
        return pages.render(request, v, 200, "console/catalog-delete", model);
    }

    /** A deletion, as the admin API's DELETE (the confirmation page sends the name as {@code id}). */
    private HttpResponse<?> delete(Editable kind, String tenant, HttpRequest<?> request, @Nullable Authentication auth,
                                   @Nullable Map<String, String> form) {
        String k = form == null ? null : ConsoleTenantPages.trim(form.get("id"));
        if (k == null) {
            return ConsoleTenantPages.plainNotFound();
        }
        String base = ConsoleTenantPages.base(tenant, "resources");
        String path = ConsoleGate.apiPath(tenant, kind.api(), k);
        ConsoleTenantPages.Visit v = pages.open(request, auth, tenant, HttpMethod.DELETE, path, form.get("_csrf"),
                ConsoleTenantPages.Back.to(base));
        if (v.stopped()) {
            return v.stop();
        }
        try {
            kind.requireForChange(v.admin(), v.id(), k, request, HttpMethod.DELETE, path);
            kind.delete(v.id(), k, Actor.admin(v.admin().name()), RequestMetaFilter.of(request));
        } catch (AdminRefusal e) {
            return pages.refused(request, v.tenant(), e, ConsoleTenantPages.Back.to(base));
        } catch (AgentException e) {
            return pages.failed(request, v, HttpMethod.DELETE, path, e, ConsoleTenantPages.Back.to(base));
        }
        return ConsoleTenantPages.seeOther(base + kind.anchor());
    }

    /** Space- or comma-separated words of a form field. */
    static List<String> words(@Nullable String s) {
        if (s == null || s.isBlank()) {
            return List.of();
        }
        return Arrays.stream(s.strip().split("[\\s,]+")).filter(w -> !w.isEmpty()).toList();
    }
}
