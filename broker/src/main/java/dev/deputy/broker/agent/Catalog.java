package dev.deputy.broker.agent;

import dev.deputy.broker.audit.AuditEvent;
import dev.deputy.broker.audit.AuditTransactions;
import dev.deputy.broker.audit.RequestMeta;
import jakarta.inject.Singleton;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Roles (scope templates, optionally limited to environments) and resources (MCP servers by canonical URI)
 * of a tenant. Changes are audited with who made them and the state before and after; a change and its entry commit
 * in one transaction ({@link AuditTransactions}).
 */
@Singleton
public class Catalog {
    public static final Pattern ROLE_NAME = Pattern.compile("[a-z0-9][a-z0-9._:-]{0,127}");
    public static final Pattern RESOURCE_ID = Pattern.compile("[a-z0-9][a-z0-9._-]{0,127}");
    /** RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ). */
    public static final Pattern SCOPE = Pattern.compile("[\\x21\\x23-\\x5B\\x5D-\\x7E]{1,200}");
    static final int MAX_SCOPES = 200;

    private final AgentStore store;
    private final AuditTransactions audited;

    public Catalog(AgentStore store, AuditTransactions audited) {
        this.store = store;
        this.audited = audited;
    }

    // ---- roles

    public List<Role> roles(String tenant) {
        return store.listRoles(tenant);
    }

    public Optional<Role> findRole(String tenant, String name) {
        return store.listRoles(tenant).stream().filter(r -> r.name().equals(name)).findFirst();
    }

    public Role role(String tenant, String name) {
        return findRole(tenant, name).orElseThrow(() -> AgentException.notFound("no role '" + Agents.clip(name) + "'"));
    }

    /** Checks a role as given (name, scopes, environments) and returns it normalised. */
    public static Role checkRole(String tenant, String name, String description, List<String> scopes,
                                 List<String> environments, String managedBy) {
        if (name == null || !ROLE_NAME.matcher(name).matches()) {
            throw AgentException.invalid("role name must match " + ROLE_NAME.pattern());
        }
        if (description != null && (description.length() > 512
                || description.chars().anyMatch(c -> c != '\n' && Character.isISOControl(c)))) {
            throw AgentException.invalid("description must be at most 512 printable characters");
        }
        List<String> envs = new ArrayList<>();
        for (String e : environments == null ? List.<String>of() : environments) {
            envs.add(Agents.checkEnvironment(e));
        }
        return new Role(tenant, name, description, checkScopes(scopes), envs, managedBy);
    }

    public Role createRole(String tenant, Role role, Actor actor, RequestMeta meta) {
        Role r = checkRole(tenant, role.name(), role.description(), role.scopes(), role.environments(), role.managedBy());
        if (findRole(tenant, r.name()).isPresent()) {
            throw AgentException.conflict("role '" + r.name() + "' already exists");
        }
        audited.run(tenant, tx -> { // the role and its entry commit together
            store.saveRole(r);
            return tx.append(event(tenant, "role.created", actor, meta).detail("role", r.name()).detail("after", summary(r)).build());
        });
        return r;
    }

    /** Replaces a role's description, scopes and environments; agents holding it must still fit. */
    public Role updateRole(String tenant, Role role, Actor actor, RequestMeta meta) {
        Role before = role(tenant, role.name());
        Role r = checkRole(tenant, role.name(), role.description(), role.scopes(), role.environments(), before.managedBy());
        if (!r.environments().isEmpty()) {
            for (Agent a : store.listAgents(tenant)) {
                if (a.status() != Agent.Status.REVOKED && a.roles().contains(r.name()) && !r.appliesIn(a.environment())) {
                    throw AgentException.conflict("agent '" + a.id() + "' in environment '" + a.environment()
                            + "' holds role '" + r.name() + "'; the new environments " + r.environments() + " exclude it");
                }
            }
        }
        if (summary(r).equals(summary(before))) {
            return before;
        }
        audited.run(tenant, tx -> {
            store.saveRole(r);
            return tx.append(event(tenant, "role.updated", actor, meta).detail("role", r.name())
                    .detail("before", summary(before)).detail("after", summary(r)).build());
        });
        return r;
    }

    public void deleteRole(String tenant, String name, Actor actor, RequestMeta meta) {
        Role before = role(tenant, name);
        List<String> holders = store.listAgents(tenant).stream()
                .filter(a -> a.status() != Agent.Status.REVOKED && a.roles().contains(name)).map(Agent::id).toList();
        if (!holders.isEmpty()) {
            throw AgentException.conflict("role '" + name + "' is held by agents " + holders + "; take it away first");
        }
        audited.run(tenant, tx -> {
            store.deleteRole(tenant, name);
            return tx.append(event(tenant, "role.deleted", actor, meta).detail("role", name).detail("before", summary(before)).build());
        });
    }

    // ---- resources

    public List<Resource> resources(String tenant) {
        return store.listResources(tenant);
    }

    public Resource resource(String tenant, String id) {
        return store.listResources(tenant).stream().filter(r -> r.id().equals(id)).findFirst()
                .orElseThrow(() -> AgentException.notFound("no resource '" + Agents.clip(id) + "'"));
    }

    /** Checks a resource and fills its id (from the URI) and name (the id) when absent. */
    public static Resource checkResource(String tenant, String id, String uri, String name, List<String> scopes,
                                         boolean isDefault, String managedBy) {
        String canonical = checkUri(uri);
        String rid = id == null || id.isBlank() ? idFromUri(canonical) : id;
        if (!RESOURCE_ID.matcher(rid).matches()) {
            throw AgentException.invalid("resource id must match " + RESOURCE_ID.pattern());
        }
        String n = name == null || name.isBlank() ? rid : Agents.checkName(name);
        return new Resource(tenant, rid, canonical, n, checkScopes(scopes), isDefault, managedBy);
    }

    public Resource createResource(String tenant, Resource given, Actor actor, RequestMeta meta) {
        Resource r = checkResource(tenant, given.id(), given.uri(), given.name(), given.scopes(), given.isDefault(),
                given.managedBy());
        List<Resource> all = store.listResources(tenant);
        for (Resource x : all) {
            if (x.id().equals(r.id())) {
                throw AgentException.conflict("resource '" + r.id() + "' already exists");
            }
            if (x.uri().equals(r.uri())) {
                throw AgentException.conflict("resource '" + x.id() + "' already has the URI " + r.uri());
            }
        }
        checkSingleDefault(all, r);
        audited.run(tenant, tx -> {
            store.saveResource(r);
            return tx.append(event(tenant, "resource.created", actor, meta).resource(r.uri()).detail("resource_id", r.id())
                    .detail("after", summary(r)).build());
        });
        return r;
    }

    public Resource updateResource(String tenant, Resource given, Actor actor, RequestMeta meta) {
        Resource before = resource(tenant, given.id());
        Resource r = checkResource(tenant, given.id(), given.uri(), given.name(), given.scopes(), given.isDefault(),
                before.managedBy());
        List<Resource> all = store.listResources(tenant);
        for (Resource x : all) {
            if (!x.id().equals(r.id()) && x.uri().equals(r.uri())) {
                throw AgentException.conflict("resource '" + x.id() + "' already has the URI " + r.uri());
            }
        }
        checkSingleDefault(all, r);
        if (summary(r).equals(summary(before))) {
            return before;
        }
        audited.run(tenant, tx -> {
            store.saveResource(r);
            return tx.append(event(tenant, "resource.updated", actor, meta).resource(r.uri()).detail("resource_id", r.id())
                    .detail("before", summary(before)).detail("after", summary(r)).build());
        });
        return r;
    }

    public void deleteResource(String tenant, String id, Actor actor, RequestMeta meta) {
        Resource before = resource(tenant, id);
        audited.run(tenant, tx -> {
            store.deleteResource(tenant, id);
            return tx.append(event(tenant, "resource.deleted", actor, meta).resource(before.uri()).detail("resource_id", id)
                    .detail("before", summary(before)).build());
        });
    }

    private static void checkSingleDefault(List<Resource> all, Resource r) {
        if (!r.isDefault()) {
            return;
        }
        for (Resource x : all) {
            if (x.isDefault() && !x.id().equals(r.id())) {
                throw AgentException.conflict("resource '" + x.id() + "' is already the default; unset it first");
            }
        }
    }

    static List<String> checkScopes(List<String> scopes) {
        if (scopes == null) {
            return List.of();
        }
        if (scopes.size() > MAX_SCOPES) {
            throw AgentException.invalid("at most " + MAX_SCOPES + " scopes");
        }
        List<String> out = new ArrayList<>();
        for (String s : scopes) {
            if (s == null || !SCOPE.matcher(s).matches()) {
                throw AgentException.invalid("'" + Agents.clip(s) + "' is not a valid scope (RFC 6749 §3.3)");
            }
            if (!out.contains(s)) {
                out.add(s);
            }
        }
        return List.copyOf(out);
    }

    /** RFC 8707 §2: an absolute URI without a fragment; one trailing slash is dropped. */
    static String checkUri(String uri) {
        if (uri == null || uri.isBlank()) {
            throw AgentException.invalid("uri is required");
        }
        URI u;
        try {
            u = new URI(uri.trim());
        } catch (URISyntaxException e) {
            throw AgentException.invalid("uri is not a valid URI");
        }
        String scheme = u.getScheme() == null ? "" : u.getScheme().toLowerCase(Locale.ROOT);
        if (!(scheme.equals("https") || scheme.equals("http")) || u.getHost() == null || u.getRawFragment() != null
                || u.getRawUserInfo() != null || uri.length() > 512) {
            throw AgentException.invalid("uri must be an absolute http(s) URL without user info or fragment (RFC 8707 §2)");
        }
        if (scheme.equals("http") && !CredentialParser.isLoopback(u.getHost())) {
            throw AgentException.invalid("uri must use https (http only on loopback)");
        }
        return Resource.canonical(u.toString());
    }

    static String idFromUri(String uri) {
        URI u = URI.create(uri);
        String s = (u.getHost() + (u.getPath() == null ? "" : u.getPath())).toLowerCase(Locale.ROOT)
                .replaceAll("[^a-z0-9._]+", "-").replaceAll("^[-._]+|[-]+$", "");
        if (s.isEmpty()) {
            s = "resource";
        }
        return s.length() > 128 ? s.substring(0, 128) : s;
    }

    public static Map<String, Object> summary(Role r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("description", r.description());
        m.put("scopes", r.scopes());
        m.put("environments", r.environments());
        m.put("managed_by", r.managedBy());
        return m;
    }

    public static Map<String, Object> summary(Resource r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("uri", r.uri());
        m.put("name", r.name());
        m.put("scopes", r.scopes());
        m.put("default", r.isDefault());
        m.put("managed_by", r.managedBy());
        return m;
    }

    private static AuditEvent.Builder event(String tenant, String type, Actor actor, RequestMeta meta) {
        AuditEvent.Builder b = AuditEvent.of(tenant, type, AuditEvent.Outcome.SUCCESS).request(meta)
                .detail("actor", actor.label());
        if (actor.type() == Actor.Type.ADMIN) {
            b.client(actor.id());
        }
        return b;
    }
}
