package dev.deputy.broker.config;

import dev.deputy.broker.agent.Actor;
import dev.deputy.broker.agent.Agent;
import dev.deputy.broker.agent.AgentCredential;
import dev.deputy.broker.agent.AgentException;
import dev.deputy.broker.agent.AgentPatch;
import dev.deputy.broker.agent.AgentSpec;
import dev.deputy.broker.agent.Agents;
import dev.deputy.broker.agent.Catalog;
import dev.deputy.broker.agent.CredentialParser;
import dev.deputy.broker.agent.CredentialSpec;
import dev.deputy.broker.agent.Dormancy;
import dev.deputy.broker.agent.Resource;
import dev.deputy.broker.agent.Role;
import dev.deputy.broker.audit.AuditEvent;
import dev.deputy.broker.audit.AuditLog;
import dev.deputy.broker.audit.RequestMeta;
import jakarta.inject.Singleton;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Policy-as-code: compares a tenant's agent, role and resource files with what the broker holds and
 * computes a plan (create / update / credential rotation / revoke / delete), then applies it in order:
 * roles, resources, agents, and last the roles no file names any more.
 *
 * <p>Only objects with {@code managed_by: config} are touched; a file naming an object created through the
 * API is an error. An agent whose file is removed is <em>revoked</em>, never deleted: its rows and audit trail
 * stay, and its id is not reused.
 */
@Singleton
public class PolicyApply {
    public static final String MANAGED_BY = "config";
    private static final Logger LOG = LoggerFactory.getLogger(PolicyApply.class);

    private final Agents agents;
    private final Catalog catalog;
    private final AuditLog audit;
    private final PlanApprovalStore privileges;
    private final PlanApprovals approvals;

    public PolicyApply(Agents agents, Catalog catalog, AuditLog audit, PlanApprovalStore privileges,
                       PlanApprovals approvals) {
        this.agents = agents;
        this.catalog = catalog;
        this.audit = audit;
        this.privileges = privileges;
        this.approvals = approvals;
    }

    /** One planned change; {@code file} is null for removals. */
    public record Change(String kind, String id, String action, Path file, List<String> details) {
        public Change {
            details = List.copyOf(details);
        }
    }

    /**
     * A plan: the changes in apply order, and the problems that block it (path:line: reason).
     *
     * @param id         the plan's identity: SHA-256 (hex) of the tenant, the normalized change set and the content
     *                   of the file behind each change; what a second admin's approval covers
     * @param privileged the changes that grant a privileged role (or take the mark away): they need that approval
     * @param approval   the approval's state when the plan needs one and an admin submitted it, else null
     */
    public record Plan(String tenant, List<Change> changes, List<ConfigException> errors, String id,
                       List<String> privileged, PlanApprovals.Status approval) {
        public Plan {
            changes = List.copyOf(changes);
            errors = List.copyOf(errors);
            privileged = List.copyOf(privileged);
        }

        public Plan(String tenant, List<Change> changes, List<ConfigException> errors) {
            this(tenant, changes, errors, planId(tenant, changes), List.of(), null);
        }

        public boolean needsApproval() {
            return !privileged.isEmpty();
        }

        Plan with(PlanApprovals.Status status) {
            return new Plan(tenant, changes, errors, id, privileged, status);
        }

        public boolean ok() {
            return errors.isEmpty();
        }

        public long count(String action) {
            return changes.stream().filter(c -> c.action().equals(action)).count();
        }

        /** Human-readable, one line per change. */
        public String render(Function<Path, String> paths) {
            StringBuilder sb = new StringBuilder();
            sb.append("tenant ").append(tenant).append(": ");
            if (changes.isEmpty()) {
                sb.append("no changes\n");
            } else {
                sb.append(changes.size()).append(changes.size() == 1 ? " change\n" : " changes\n");
            }
            for (Change c : changes) {
                String sign = switch (c.action()) {
                    case "create", "add-credential" -> "+";
                    case "revoke", "delete" -> "-";
                    default -> "~";
                };
                sb.append("  ").append(sign).append(' ').append(c.action()).append(' ').append(c.kind()).append(' ')
                        .append(c.id());
                if (c.file() != null) {
                    sb.append("  (").append(paths.apply(c.file())).append(')');
                }
                sb.append('\n');
                for (String d : c.details()) {
                    sb.append("      ").append(d).append('\n');
                }
            }
            if (!privileged.isEmpty()) {
                sb.append("  privileged (a second admin must approve plan ").append(id).append("):\n");
                for (String p : privileged) {
                    sb.append("      ").append(p).append('\n');
                }
            }
            for (ConfigException e : errors) {
                sb.append("  ! ").append(paths.apply(e.file())).append(e.line() > 0 ? ":" + e.line() : "").append(": ")
                        .append(reason(e)).append('\n');
            }
            return sb.toString();
        }
    }

    /** The reason of a config error without its path:line prefix. */
    public static String reason(ConfigException e) {
        String prefix = e.file() + (e.line() > 0 ? ":" + e.line() : "") + ": ";
        String m = e.getMessage();
        return m.startsWith(prefix) ? m.substring(prefix.length()) : m;
    }

    /** SHA-256 over the tenant, each change (action, kind, id, details) and the bytes of the file behind it. */
    static String planId(String tenant, List<Change> changes) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            md.update(("deputy-plan-v1\n" + tenant + "\n").getBytes(StandardCharsets.UTF_8));
            for (Change c : changes) {
                md.update((c.action() + "\t" + c.kind() + "\t" + c.id() + "\t" + String.join("\u001f", c.details()) + "\t")
                        .getBytes(StandardCharsets.UTF_8));
                if (c.file() != null && Files.isRegularFile(c.file())) {
                    md.update(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(c.file())));
                }
                md.update((byte) '\n');
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException | IOException e) {
            throw new IllegalStateException("cannot compute the plan id: " + e.getMessage(), e);
        }
    }

    private record Step(int order, Change change, Runnable run, boolean privileged) {
    }

    /**
     * Changes planned outside this class (the tenant's other files: tenant.yml, registration.yml, connectors/,
     * clients/, policies/, trust/), made part of the plan: listed, covered by the plan id, blocking it with their
     * errors, and carried out (by {@code run}, once, before the roles) when the plan applies.
     */
    public record Extra(List<Change> changes, List<ConfigException> errors, Runnable run) {
        public static final Extra NONE = new Extra(List.of(), List.of(), () -> {
        });

        public Extra {
            changes = List.copyOf(changes);
            errors = List.copyOf(errors);
        }
    }

    private static final int TREE = 5;

    private static final class Builder {
        final String tenant;
        final List<Step> steps = new ArrayList<>();
        final List<ConfigException> errors = new ArrayList<>();
        final List<String> privileged = new ArrayList<>();

        Builder(String tenant) {
            this.tenant = tenant;
        }

        void step(int order, String kind, String id, String action, Path file, List<String> details, Runnable run) {
            steps.add(new Step(order, new Change(kind, id, action, file, details), run, false));
        }

        /** A step that needs a second admin's approval, with what it does in one line. */
        void privilegedStep(int order, String kind, String id, String action, Path file, List<String> details,
                            String why, Runnable run) {
            steps.add(new Step(order, new Change(kind, id, action, file, details), run, true));
            privileged.add(why);
        }

        void error(Path file, String key, String reason) {
            errors.add(new ConfigException(file, key == null ? 0 : PolicyFiles.lineOf(file, key), reason));
        }

        List<Step> ordered() {
            return steps.stream().sorted(Comparator.comparingInt(Step::order)).toList();
        }
    }

    // apply order
    private static final int ROLE_UPSERT = 10;
    private static final int RESOURCE_DELETE = 20;
    private static final int RESOURCE_UPSERT = 21;
    private static final int RESOURCE_UPSERT_DEFAULT = 22;
    private static final int AGENT_CREATE = 30;
    private static final int AGENT_UPDATE = 31;
    private static final int AGENT_CREDENTIAL = 32;
    private static final int AGENT_REVOKE = 33;
    private static final int ROLE_DELETE = 40;

    public Plan plan(String tenant, PolicyFiles files, Actor actor) {
        return build(tenant, files, actor, RequestMeta.INTERNAL, Extra.NONE).plan();
    }

    private record Built(Plan plan, List<Step> steps) {
    }

    /**
     * Plans, and unless {@code dryRun} applies when the plan has no errors. Returns the plan; a failure of a
     * step half-way throws (the steps before it stay applied and audited).
     */
    public Plan apply(String tenant, PolicyFiles files, boolean dryRun, Actor actor, RequestMeta meta) {
        return apply(tenant, files, dryRun, actor, meta, Extra.NONE);
    }

    /** {@link #apply(String, PolicyFiles, boolean, Actor, RequestMeta)} with the tenant's other files' changes. */
    public Plan apply(String tenant, PolicyFiles files, boolean dryRun, Actor actor, RequestMeta meta, Extra extra) {
        Built b = build(tenant, files, actor, meta, extra);
        Plan plan = b.plan();
        boolean admin = actor.type() == Actor.Type.ADMIN;
        if (plan.ok() && plan.needsApproval() && admin) {
            // planned: the request is recorded for a second admin; applied: exactly this plan's approval, used once
            plan = plan.with(dryRun ? approvals.request(tenant, plan, plan.render(p -> files.dir().relativize(p).toString()), actor, meta)
                    : approvals.consume(tenant, plan, actor, meta));
        }
        if (!dryRun && plan.ok()) {
            for (Step s : b.steps()) {
                if (s.privileged() && !admin) {
                    // the broker's own start never grants a privileged role: only an approved plan does
                    LOG.warn("tenant {}: not applied at start, needs a second admin's approval (deputy plan / apply): {} {} {}",
                            tenant, s.change().action(), s.change().kind(), s.change().id());
                    continue;
                }
                s.run().run();
            }
            if (plan.needsApproval() && admin) {
                approvals.applied(tenant, plan, actor, meta);
            }
        }
        if (plan.changes().isEmpty() && plan.ok() && !admin) {
            return plan; // a start-up with nothing to do leaves no trace
        }
        audit.append(AuditEvent.of(tenant, "config.apply", b.plan().ok() ? AuditEvent.Outcome.SUCCESS
                        : AuditEvent.Outcome.FAILURE).request(meta)
                .client(actor.type() == Actor.Type.ADMIN ? actor.id() : null)
                .detail("actor", actor.label()).detail("dry_run", dryRun)
                .detail("changes", b.plan().changes().stream().map(c -> c.action() + " " + c.kind() + " " + c.id()).toList())
                .detail("errors", b.plan().errors().size()).build());
        return plan;
    }

    private Built build(String tenant, PolicyFiles files, Actor actor, RequestMeta meta, Extra extra) {
        Builder b = new Builder(tenant);
        b.errors.addAll(extra.errors());
        for (int i = 0; i < extra.changes().size(); i++) {
            Change c = extra.changes().get(i);
            b.step(TREE, c.kind(), c.id(), c.action(), c.file(), c.details(), i == 0 ? extra.run() : () -> {
            });
        }
        if (files == null) {
            // only the tenant's other files are planned: agents, roles and resources are left as they are
            List<Step> ordered = b.ordered();
            List<Change> changes = ordered.stream().map(Step::change).toList();
            return new Built(new Plan(tenant, changes, b.errors, planId(tenant, changes), b.privileged, null), ordered);
        }
        long now = System.currentTimeMillis();
        Map<String, Role> currentRoles = catalog.roles(tenant).stream().collect(Collectors.toMap(Role::name, r -> r));
        Set<String> privilegedNow = privileges.privilegedRoles(tenant);
        // a role counts as privileged for this plan when it is marked now or after it (no unmarking and granting in one go)
        Set<String> privileged = new HashSet<>(privilegedNow);
        List<Resource> currentResources = catalog.resources(tenant);
        Map<String, Agent> currentAgents = agents.list(tenant, null, false, Dormancy.DEFAULT, now).stream()
                .collect(Collectors.toMap(Agent::id, a -> a));

        // ---- roles
        Map<String, Role> finalRoles = new HashMap<>();
        currentRoles.values().stream().filter(r -> !MANAGED_BY.equals(r.managedBy())).forEach(r -> finalRoles.put(r.name(), r));
        Set<String> wantedRoles = new HashSet<>();
        for (PolicyFiles.Entry<RoleFile> e : files.roles()) {
            wantedRoles.add(e.id());
            Role want;
            try {
                want = Catalog.checkRole(tenant, e.id(), e.value().description(), e.value().scopes(),
                        e.value().environments(), MANAGED_BY);
            } catch (AgentException ex) {
                b.error(e.file(), null, ex.getMessage());
                continue;
            }
            Role have = currentRoles.get(e.id());
            if (have != null && !MANAGED_BY.equals(have.managedBy())) {
                b.error(e.file(), null, "role '" + e.id() + "' exists and is managed by " + have.managedBy()
                        + "; config never takes over API-created roles (delete it there or rename this file)");
                continue;
            }
            finalRoles.put(want.name(), want);
            boolean wantPriv = e.value().isPrivileged();
            boolean havePriv = privilegedNow.contains(want.name());
            if (wantPriv) {
                privileged.add(want.name());
            }
            if (have == null) {
                b.step(ROLE_UPSERT, "role", want.name(), "create", e.file(), List.of("scopes " + want.scopes()
                                + (want.environments().isEmpty() ? "" : ", environments " + want.environments())
                                + (wantPriv ? ", privileged" : "")),
                        () -> {
                            catalog.createRole(tenant, want, actor, meta);
                            if (wantPriv || havePriv) {
                                privileges.setPrivileged(tenant, want.name(), wantPriv, System.currentTimeMillis());
                            }
                        });
            } else {
                List<String> diff = new ArrayList<>();
                diff(diff, "description", have.description(), want.description());
                diff(diff, "scopes", have.scopes(), want.scopes());
                diff(diff, "environments", have.environments(), want.environments());
                boolean roleChanged = !diff.isEmpty();
                diff(diff, "privileged", havePriv, wantPriv);
                Runnable run = () -> {
                    if (roleChanged) {
                        catalog.updateRole(tenant, want, actor, meta);
                    }
                    if (havePriv != wantPriv) {
                        privileges.setPrivileged(tenant, want.name(), wantPriv, System.currentTimeMillis());
                    }
                };
                if (havePriv && !wantPriv) {
                    b.privilegedStep(ROLE_UPSERT, "role", want.name(), "update", e.file(), diff,
                            "role " + want.name() + " is no longer privileged", run);
                } else if (!diff.isEmpty()) {
                    b.step(ROLE_UPSERT, "role", want.name(), "update", e.file(), diff, run);
                }
            }
        }
        List<String> rolesToDelete = currentRoles.values().stream()
                .filter(r -> MANAGED_BY.equals(r.managedBy()) && !wantedRoles.contains(r.name())).map(Role::name).toList();

        // ---- resources
        Map<String, Resource> byId = currentResources.stream().collect(Collectors.toMap(Resource::id, r -> r));
        List<Resource> finalResources = new ArrayList<>(currentResources.stream()
                .filter(r -> !MANAGED_BY.equals(r.managedBy())).toList());
        Set<String> wantedResources = new HashSet<>();
        for (PolicyFiles.Entry<ResourceFile> e : files.resources()) {
            wantedResources.add(e.id());
            Resource want;
            try {
                want = Catalog.checkResource(tenant, e.id(), e.value().uri(), e.value().name(), e.value().scopes(),
                        e.value().isDefault(), MANAGED_BY);
            } catch (AgentException ex) {
                // the line of the key the reason is about (uri …, name …, '<scope>' is not a valid scope)
                String m = String.valueOf(ex.getMessage());
                b.error(e.file(), m.startsWith("uri") ? "uri" : m.startsWith("name") ? "name" : m.contains("scope") ? "scopes"
                        : m.startsWith("resource id") ? "id" : null, ex.getMessage());
                continue;
            }
            Resource have = byId.get(e.id());
            if (have != null && !MANAGED_BY.equals(have.managedBy())) {
                b.error(e.file(), null, "resource '" + e.id() + "' exists and is managed by " + have.managedBy()
                        + "; config never takes over API-created resources");
                continue;
            }
            for (Resource other : currentResources) {
                if (!MANAGED_BY.equals(other.managedBy()) && other.uri().equals(want.uri())) {
                    b.error(e.file(), "uri", "the API-created resource '" + other.id() + "' already has the URI " + want.uri());
                }
            }
            finalResources.add(want);
            int order = want.isDefault() ? RESOURCE_UPSERT_DEFAULT : RESOURCE_UPSERT;
            if (have == null) {
                b.step(order, "resource", want.id(), "create", e.file(), List.of(want.uri() + (want.isDefault() ? " (default)" : "")),
                        () -> catalog.createResource(tenant, want, actor, meta));
            } else {
                List<String> diff = new ArrayList<>();
                diff(diff, "uri", have.uri(), want.uri());
                diff(diff, "name", have.name(), want.name());
                diff(diff, "scopes", have.scopes(), want.scopes());
                diff(diff, "default", have.isDefault(), want.isDefault());
                if (!diff.isEmpty()) {
                    b.step(order, "resource", want.id(), "update", e.file(), diff,
                            () -> catalog.updateResource(tenant, want, actor, meta));
                }
            }
        }
        for (Resource r : currentResources) {
            if (MANAGED_BY.equals(r.managedBy()) && !wantedResources.contains(r.id())) {
                b.step(RESOURCE_DELETE, "resource", r.id(), "delete", null, List.of(r.uri() + ": no file names it any more"),
                        () -> catalog.deleteResource(tenant, r.id(), actor, meta));
            }
        }
        List<String> defaults = finalResources.stream().filter(Resource::isDefault).map(Resource::id).toList();
        if (defaults.size() > 1) {
            Path where = files.resources().stream().filter(e -> e.value().isDefault()).map(PolicyFiles.Entry::file)
                    .findFirst().orElse(files.dir());
            b.error(where, "default", "more than one default resource: " + defaults);
        }

        // ---- agents
        Set<String> wantedAgents = new HashSet<>();
        Map<String, List<String>> finalHolders = new HashMap<>();
        currentAgents.values().stream()
                .filter(a -> !MANAGED_BY.equals(a.managedBy()) && a.status() != Agent.Status.REVOKED)
                .forEach(a -> a.roles().forEach(r -> finalHolders.computeIfAbsent(r, k -> new ArrayList<>()).add(a.id())));
        for (PolicyFiles.Entry<AgentFile> e : files.agents()) {
            wantedAgents.add(e.id());
            AgentFile f = e.value();
            Agent have = currentAgents.get(e.id());
            if (!checkAgent(b, e, finalRoles)) {
                continue;
            }
            f.roles().forEach(r -> finalHolders.computeIfAbsent(r, k -> new ArrayList<>()).add(e.id()));
            Agent.AuthMethod method = Agent.AuthMethod.fromWire(f.authMethod());
            CredentialSpec cred = f.jwks() != null || f.jwksUri() != null || f.certificate() != null
                    ? new CredentialSpec(f.jwks(), f.jwksUri(), f.certificate()) : null;
            CredentialParser.Parsed parsed = null;
            if (cred != null) {
                try {
                    parsed = agents.parseCredential(cred, method);
                } catch (AgentException ex) {
                    b.error(e.file(), f.jwks() != null ? "jwks" : f.jwksUri() != null ? "jwks_uri" : "certificate",
                            ex.getMessage());
                    continue;
                }
            }
            String name = f.name() == null || f.name().isBlank() ? e.id() : f.name();
            if (have == null) {
                AgentSpec spec = new AgentSpec(e.id(), name, f.owner(), f.environment(), f.roles(), f.metadata(),
                        f.authMethod(), cred);
                List<String> d = new ArrayList<>();
                d.add(f.authMethod() + ", environment " + f.environment() + (f.roles().isEmpty() ? "" : ", roles " + f.roles()));
                if (parsed != null) {
                    d.add(parsed.summary());
                }
                List<String> granted = f.roles().stream().filter(privileged::contains).toList();
                if (granted.isEmpty()) {
                    b.step(AGENT_CREATE, "agent", e.id(), "create", e.file(), d,
                            () -> agents.create(tenant, spec, MANAGED_BY, actor, meta));
                } else {
                    b.privilegedStep(AGENT_CREATE, "agent", e.id(), "create", e.file(), d,
                            "new agent " + e.id() + " gets privileged role" + (granted.size() == 1 ? " " : "s ") + granted,
                            () -> agents.create(tenant, spec, MANAGED_BY, actor, meta));
                }
                continue;
            }
            if (!MANAGED_BY.equals(have.managedBy())) {
                b.error(e.file(), null, "agent '" + e.id() + "' exists and is managed by " + have.managedBy()
                        + "; config never takes over API-created agents (choose another id)");
                continue;
            }
            if (have.status() == Agent.Status.REVOKED) {
                String what = "agent '" + e.id() + "' is revoked and revoked ids are not reused: delete "
                        + files.dir().relativize(e.file()) + " (or give the agent a new id in it)";
                if (actor.type() != Actor.Type.ADMIN) {
                    // a file left behind after a revocation never blocks the start
                    LOG.warn("tenant {}: skipped: {}", tenant, what);
                } else {
                    b.error(e.file(), null, what);
                }
                continue;
            }
            if (have.authMethod() != method) {
                b.error(e.file(), "auth_method", "auth_method of agent '" + e.id() + "' is " + have.authMethod().wire()
                        + " and cannot change; revoke it (remove the file) and create a new agent");
                continue;
            }
            List<String> diff = new ArrayList<>();
            diff(diff, "name", have.name(), name);
            diff(diff, "owner", have.owner(), f.owner() == null || f.owner().isBlank() ? null : f.owner());
            diff(diff, "environment", have.environment(), f.environment());
            diff(diff, "roles", have.roles(), f.roles());
            diff(diff, "metadata", have.metadata(), f.metadata());
            if (!diff.isEmpty()) {
                AgentPatch patch = new AgentPatch(name, f.owner() == null ? "" : f.owner(), f.environment(), f.roles(),
                        f.metadata());
                List<String> granted = f.roles().stream().filter(r -> privileged.contains(r) && !have.roles().contains(r)).toList();
                if (granted.isEmpty()) {
                    b.step(AGENT_UPDATE, "agent", e.id(), "update", e.file(), diff,
                            () -> agents.update(tenant, e.id(), patch, actor, meta));
                } else {
                    b.privilegedStep(AGENT_UPDATE, "agent", e.id(), "update", e.file(), diff,
                            "agent " + e.id() + " is granted privileged role" + (granted.size() == 1 ? " " : "s ") + granted,
                            () -> agents.update(tenant, e.id(), patch, actor, meta));
                }
            }
            if (parsed != null) {
                planCredential(b, tenant, e, parsed, cred, actor, meta, now);
            }
        }
        for (Agent a : currentAgents.values()) {
            if (MANAGED_BY.equals(a.managedBy()) && !wantedAgents.contains(a.id()) && a.status() != Agent.Status.REVOKED) {
                b.step(AGENT_REVOKE, "agent", a.id(), "revoke", null,
                        List.of("no file names it any more: revoked, not deleted (rows and audit trail stay; the id is not reused)"),
                        () -> agents.revoke(tenant, a.id(), "removed from config", actor, meta));
            }
        }
        for (String r : rolesToDelete) {
            List<String> holders = finalHolders.getOrDefault(r, List.of());
            if (!holders.isEmpty()) {
                b.error(files.dir().resolve("roles"), null, "role '" + r + "' has no file any more but agents " + holders
                        + " hold it; take it away from them first");
            } else {
                boolean wasPriv = privilegedNow.contains(r);
                b.step(ROLE_DELETE, "role", r, "delete", null, List.of("no file names it any more"),
                        () -> {
                            catalog.deleteRole(tenant, r, actor, meta);
                            if (wasPriv) {
                                privileges.setPrivileged(tenant, r, false, System.currentTimeMillis());
                            }
                        });
            }
        }
        List<Step> ordered = b.ordered();
        List<Change> changes = ordered.stream().map(Step::change).toList();
        return new Built(new Plan(tenant, changes, b.errors, planId(tenant, changes), b.privileged, null), ordered);
    }

    private boolean checkAgent(Builder b, PolicyFiles.Entry<AgentFile> e, Map<String, Role> finalRoles) {
        AgentFile f = e.value();
        try {
            Agents.checkEnvironment(f.environment());
        } catch (AgentException ex) {
            b.error(e.file(), "environment", ex.getMessage());
            return false;
        }
        try {
            if (f.name() != null) {
                Agents.checkName(f.name());
            }
            Agents.checkOwner(f.owner());
            Agents.checkMetadata(f.metadata());
        } catch (AgentException ex) {
            b.error(e.file(), null, ex.getMessage());
            return false;
        }
        for (String r : f.roles()) {
            Role role = finalRoles.get(r);
            if (role == null) {
                b.error(e.file(), "roles", "unknown role '" + r + "' (no roles/" + r + ".yml and none created through the API)");
                return false;
            }
            if (!role.appliesIn(f.environment())) {
                b.error(e.file(), "roles", "role '" + r + "' is limited to environments " + role.environments()
                        + ", not '" + f.environment() + "'");
                return false;
            }
        }
        return true;
    }

    private void planCredential(Builder b, String tenant, PolicyFiles.Entry<AgentFile> e, CredentialParser.Parsed parsed,
                                CredentialSpec cred, Actor actor, RequestMeta meta, long now) {
        List<AgentCredential> current = agents.details(tenant, e.id()).credentials().stream()
                .filter(c -> c.kind() != AgentCredential.Kind.CA_CERT && c.usableAt(now)).toList();
        boolean present = current.stream().anyMatch(c -> c.validUntil() == null && c.kind() == parsed.kind()
                && (parsed.thumbprint() != null ? parsed.thumbprint().equals(c.thumbprint()) : parsed.material().equals(c.material())));
        if (present) {
            return;
        }
        if (current.isEmpty()) {
            b.step(AGENT_CREDENTIAL, "agent", e.id(), "add-credential", e.file(), List.of(parsed.summary()),
                    () -> agents.addCredential(tenant, e.id(), cred, actor, meta));
        } else {
            Duration overlap = e.value().rotationOverlap() == null ? Agents.DEFAULT_OVERLAP : e.value().rotationOverlap();
            b.step(AGENT_CREDENTIAL, "agent", e.id(), "rotate-credential", e.file(),
                    List.of(parsed.summary(), "the current credentials keep working for " + overlap.toSeconds() + "s"),
                    () -> agents.rotate(tenant, e.id(), cred, overlap, actor, meta));
        }
    }

    private static void diff(List<String> out, String field, Object have, Object want) {
        if (!Objects.equals(normalize(have), normalize(want))) {
            out.add(field + ": " + show(have) + " -> " + show(want));
        }
    }

    private static Object normalize(Object o) {
        if (o instanceof Map<?, ?> m) {
            return new LinkedHashMap<>(m);
        }
        return o;
    }

    private static String show(Object o) {
        if (o == null) {
            return "(none)";
        }
        String s = o instanceof String str ? "'" + str + "'" : String.valueOf(o);
        return s.length() > 120 ? s.substring(0, 120) + "..." : s;
    }
}
