package dev.deputy.broker.agent;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.deputy.broker.audit.AuditEvent;
import dev.deputy.broker.audit.AuditTransactions;
import dev.deputy.broker.audit.EventTypes;
import dev.deputy.broker.audit.RequestMeta;
import io.micronaut.context.annotation.Value;
import jakarta.inject.Singleton;

import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * The agent registry: provisioning, editing, credentials and the lifecycle (rotate, suspend, resume,
 * revoke, dormancy). Every change is audited with who made it and the state before and after, and
 * announced through {@link AgentChanges} so that every node drops its caches at once. Each change and its audit
 * entry commit in one transaction ({@link AuditTransactions}); the announcement follows the commit.
 */
@Singleton
public class Agents {
    public static final Pattern ENVIRONMENT = Pattern.compile("[a-z0-9][a-z0-9_-]{0,63}");
    public static final Duration DEFAULT_OVERLAP = Duration.ofHours(1);
    public static final Duration MAX_OVERLAP = Duration.ofDays(30);
    static final int MAX_METADATA_JSON = 8 * 1024;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final char[] ID_CHARS = "0123456789abcdefghjkmnpqrstvwxyz".toCharArray();

    private final AgentStore store;
    private final AuditTransactions audited;
    private final AgentChanges changes;
    private final boolean allowHttpLoopbackJwksUri;

    public Agents(AgentStore store, AuditTransactions audited, AgentChanges changes,
                  @Value("${deputy.agents.allow-http-loopback-jwks-uri:false}") boolean allowHttpLoopbackJwksUri) {
        this.store = store;
        this.audited = audited;
        this.changes = changes;
        this.allowHttpLoopbackJwksUri = allowHttpLoopbackJwksUri;
    }

    /** An agent with its credentials. */
    public record Details(Agent agent, List<AgentCredential> credentials) {
    }

    // ---- queries

    /** Checks credential material as registration would, without storing anything. */
    public CredentialParser.Parsed parseCredential(CredentialSpec spec, Agent.AuthMethod method) {
        return CredentialParser.parse(spec, method, allowHttpLoopbackJwksUri, System.currentTimeMillis());
    }

    public Agent get(String tenant, String id) {
        if (id == null || !Agent.ID.matcher(id).matches()) {
            throw AgentException.notFound("no agent '" + clip(id) + "'");
        }
        return store.findAgent(tenant, id).orElseThrow(() -> AgentException.notFound("no agent '" + id + "'"));
    }

    public Details details(String tenant, String id) {
        Agent a = get(tenant, id);
        return new Details(a, store.credentials(tenant, id));
    }

    public Optional<Agent> find(String tenant, String id) {
        return store.findAgent(tenant, id);
    }

    /** Agents of the tenant, optionally only one status and/or only the dormant ones. */
    public List<Agent> list(String tenant, Agent.Status status, boolean dormantOnly, Dormancy dormancy, long now) {
        return store.listAgents(tenant).stream()
                .filter(a -> status == null || a.status() == status)
                .filter(a -> !dormantOnly || dormancy.isDormant(a, now))
                .toList();
    }

    /** One page of the tenant's agents matching {@code query} (filters applied by the store), and the total. */
    public AgentQuery.Page page(String tenant, AgentQuery query, int offset, int limit) {
        return store.findAgents(tenant, query, offset, limit);
    }

    // ---- provisioning

    public Details create(String tenant, AgentSpec spec, String managedBy, Actor actor, RequestMeta meta) {
        long now = System.currentTimeMillis();
        String id = spec.id() == null || spec.id().isBlank() ? newId() : spec.id();
        if (!Agent.ID.matcher(id).matches()) {
            throw AgentException.invalid("id must match " + Agent.ID.pattern());
        }
        if (spec.authMethod() == null || spec.authMethod().isBlank()) {
            throw AgentException.invalid("auth_method is required (tls_client_auth, self_signed_tls_client_auth or "
                    + "private_key_jwt)");
        }
        Agent.AuthMethod method;
        try {
            method = Agent.AuthMethod.fromWire(spec.authMethod());
        } catch (IllegalArgumentException e) {
            throw AgentException.invalid(e.getMessage());
        }
        String environment = checkEnvironment(spec.environment());
        List<String> roles = checkRoles(tenant, spec.roles(), environment);
        Map<String, Object> metadata = checkMetadata(spec.metadata());
        String name = checkName(spec.name() == null || spec.name().isBlank() ? id : spec.name());
        String owner = checkOwner(spec.owner());
        CredentialParser.Parsed cred = spec.credential() == null || spec.credential().empty() ? null
                : CredentialParser.parse(spec.credential(), method, allowHttpLoopbackJwksUri, now);
        Optional<Agent> existing = store.findAgent(tenant, id);
        if (existing.isPresent()) {
            throw AgentException.conflict(existing.get().status() == Agent.Status.REVOKED
                    ? "agent '" + id + "' exists and is revoked; revoked ids are not reused"
                    : "agent '" + id + "' already exists");
        }
        if (cred != null) {
            checkThumbprintFree(tenant, cred, id);
        }
        Agent agent = new Agent(tenant, id, name, owner, environment, roles, metadata, Agent.Status.ACTIVE, method,
                managedBy, now, now, null, null);
        audited.run(tenant, audit -> {
            store.saveAgent(agent);
            AgentCredential saved = cred == null ? null : saveCredential(tenant, id, cred, now);
            return audit.append(event(tenant, EventTypes.AGENT_CREATED, actor, meta, id)
                    .detail("after", summary(agent))
                    .detail("credential", saved == null ? null : credentialSummary(saved))
                    .detail("managed_by", managedBy).build());
        });
        changes.changed(tenant, id);
        return new Details(agent, store.credentials(tenant, id));
    }

    public Details update(String tenant, String id, AgentPatch patch, Actor actor, RequestMeta meta) {
        Agent before = get(tenant, id);
        if (patch == null || patch.empty()) {
            throw AgentException.invalid("nothing to change: give name, owner, environment, roles or metadata");
        }
        if (before.status() == Agent.Status.REVOKED) {
            throw AgentException.conflict("agent '" + id + "' is revoked");
        }
        String environment = patch.environment() != null ? checkEnvironment(patch.environment()) : before.environment();
        List<String> roles = checkRoles(tenant, patch.roles() != null ? patch.roles() : before.roles(), environment);
        Agent after = new Agent(tenant, id,
                patch.name() != null ? checkName(patch.name()) : before.name(),
                patch.owner() != null ? checkOwner(patch.owner()) : before.owner(),
                environment, roles,
                patch.metadata() != null ? checkMetadata(patch.metadata()) : before.metadata(),
                before.status(), before.authMethod(), before.managedBy(), before.createdAt(), System.currentTimeMillis(),
                before.statusChangedAt(), before.lastSeenAt());
        if (summary(after).equals(summary(before))) {
            return new Details(before, store.credentials(tenant, id));
        }
        audited.run(tenant, audit -> {
            store.saveAgent(after);
            return audit.append(event(tenant, EventTypes.AGENT_UPDATED, actor, meta, id)
                    .detail("before", summary(before)).detail("after", summary(after)).build());
        });
        changes.changed(tenant, id);
        return new Details(after, store.credentials(tenant, id));
    }

    // ---- credentials

    /** Registers one more credential (the existing ones keep working). */
    public AgentCredential addCredential(String tenant, String id, CredentialSpec spec, Actor actor, RequestMeta meta) {
        Agent a = get(tenant, id);
        requireNotRevoked(a);
        long now = System.currentTimeMillis();
        CredentialParser.Parsed parsed = CredentialParser.parse(spec, a.authMethod(), allowHttpLoopbackJwksUri, now);
        checkThumbprintFree(tenant, parsed, id);
        AgentCredential c = audited.run(tenant, audit -> {
            AgentCredential saved = saveCredential(tenant, id, parsed, now);
            audit.append(event(tenant, EventTypes.AGENT_CREDENTIAL_ADDED, actor, meta, id)
                    .detail("credential", credentialSummary(saved)).build());
            return saved;
        });
        changes.changed(tenant, id);
        return c;
    }

    /**
     * Rotation for registered keys and pinned certificates: the new credential works at once, every other
     * active credential keeps working for {@code overlap} and then stops ({@code valid_until}).
     */
    public Details rotate(String tenant, String id, CredentialSpec spec, Duration overlap, Actor actor, RequestMeta meta) {
        Agent a = get(tenant, id);
        requireNotRevoked(a);
        Duration ov = overlap == null ? DEFAULT_OVERLAP : overlap;
        if (ov.isNegative() || ov.compareTo(MAX_OVERLAP) > 0) {
            throw AgentException.invalid("overlap must be between 0s and " + MAX_OVERLAP.toDays() + "d");
        }
        long now = System.currentTimeMillis();
        CredentialParser.Parsed parsed = CredentialParser.parse(spec, a.authMethod(), allowHttpLoopbackJwksUri, now);
        checkThumbprintFree(tenant, parsed, id);
        long validUntil = now + ov.toMillis();
        audited.run(tenant, audit -> {
            List<AgentCredential> before = store.credentials(tenant, id);
            AgentCredential c = saveCredential(tenant, id, parsed, now);
            store.limitCredentials(tenant, id, validUntil, c.id());
            List<String> limited = before.stream().filter(x -> x.usableAt(now)).map(AgentCredential::id).toList();
            return audit.append(event(tenant, EventTypes.AGENT_ROTATED, actor, meta, id)
                    .detail("new_credential", credentialSummary(c))
                    .detail("limited_credentials", limited)
                    .detail("old_valid_until", validUntil)
                    .detail("overlap_seconds", ov.toSeconds()).build());
        });
        changes.changed(tenant, id);
        return new Details(a, store.credentials(tenant, id));
    }

    // ---- lifecycle

    public Agent suspend(String tenant, String id, String reason, Actor actor, RequestMeta meta) {
        Agent a = get(tenant, id);
        requireNotRevoked(a);
        if (a.status() == Agent.Status.SUSPENDED) {
            throw AgentException.conflict("agent '" + id + "' is already suspended");
        }
        return setStatus(a, Agent.Status.SUSPENDED, EventTypes.AGENT_SUSPENDED, reason, actor, meta);
    }

    public Agent resume(String tenant, String id, String reason, Actor actor, RequestMeta meta) {
        Agent a = get(tenant, id);
        requireNotRevoked(a);
        if (a.status() == Agent.Status.ACTIVE) {
            throw AgentException.conflict("agent '" + id + "' is active, not suspended");
        }
        return setStatus(a, Agent.Status.ACTIVE, EventTypes.AGENT_RESUMED, reason, actor, meta);
    }

    /** Final: the agent and its credentials stop working on every node now; rows and audit trail stay. */
    public Agent revoke(String tenant, String id, String reason, Actor actor, RequestMeta meta) {
        Agent a = get(tenant, id);
        requireNotRevoked(a);
        Agent after = a.withStatus(Agent.Status.REVOKED, System.currentTimeMillis());
        audited.run(tenant, audit -> {
            store.saveAgent(after);
            store.revokeCredentials(tenant, id);
            return audit.append(event(tenant, EventTypes.AGENT_REVOKED, actor, meta, id)
                    .detail("before", summary(a)).detail("after", summary(after)).detail("reason", clip(reason)).build());
        });
        changes.changed(tenant, id);
        return after;
    }

    /** Suspends every dormant active agent of the tenant (the dormancy job); returns their ids. */
    public List<String> suspendDormant(String tenant, Dormancy dormancy, long now) {
        List<String> done = new ArrayList<>();
        for (Agent a : list(tenant, Agent.Status.ACTIVE, true, dormancy, now)) {
            Agent fresh = store.findAgent(tenant, a.id()).orElse(null);
            if (fresh == null || !dormancy.isDormant(fresh, now)) {
                continue;
            }
            setStatus(fresh, Agent.Status.SUSPENDED, EventTypes.AGENT_DORMANT, "dormant: no activity for "
                    + dormancy.period().toDays() + "d since " + java.time.Instant.ofEpochMilli(Dormancy.lastActivity(fresh)),
                    Actor.DORMANCY, RequestMeta.INTERNAL);
            done.add(a.id());
        }
        return done;
    }

    private Agent setStatus(Agent a, Agent.Status status, String type, String reason, Actor actor, RequestMeta meta) {
        Agent after = a.withStatus(status, System.currentTimeMillis());
        audited.run(a.tenantId(), audit -> {
            store.saveAgent(after);
            return audit.append(event(a.tenantId(), type, actor, meta, a.id())
                    .detail("before", summary(a)).detail("after", summary(after)).detail("reason", clip(reason)).build());
        });
        changes.changed(a.tenantId(), a.id());
        return after;
    }

    // ---- helpers

    private AgentCredential saveCredential(String tenant, String agentId, CredentialParser.Parsed p, long now) {
        AgentCredential c = new AgentCredential(tenant, "cred_" + random(20), agentId, p.kind(), p.thumbprint(), null,
                p.material(), p.notBefore(), p.notAfter(), null, AgentCredential.Status.ACTIVE, now);
        store.saveCredential(c);
        return c;
    }

    private void checkThumbprintFree(String tenant, CredentialParser.Parsed p, String agentId) {
        if (p.thumbprint() == null) {
            return;
        }
        store.credentialByThumbprint(tenant, p.thumbprint()).ifPresent(existing -> {
            throw AgentException.conflict(existing.agentId().equals(agentId)
                    ? "this certificate is already registered for agent '" + agentId + "'"
                    : "this certificate is already registered for another agent");
        });
    }

    private static void requireNotRevoked(Agent a) {
        if (a.status() == Agent.Status.REVOKED) {
            throw AgentException.conflict("agent '" + a.id() + "' is revoked");
        }
    }

    public static String checkEnvironment(String env) {
        if (env == null || env.isBlank()) {
            throw AgentException.invalid("environment is required (e.g. production, staging, dev)");
        }
        if (!ENVIRONMENT.matcher(env).matches()) {
            throw AgentException.invalid("environment must match " + ENVIRONMENT.pattern());
        }
        return env;
    }

    private List<String> checkRoles(String tenant, List<String> roles, String environment) {
        if (roles == null || roles.isEmpty()) {
            return List.of();
        }
        Map<String, Role> known = store.listRoles(tenant).stream().collect(Collectors.toMap(Role::name, r -> r));
        List<String> out = new ArrayList<>();
        for (String r : roles) {
            Role role = r == null ? null : known.get(r);
            if (role == null) {
                throw AgentException.invalid("unknown role '" + clip(r) + "'");
            }
            if (!role.appliesIn(environment)) {
                throw AgentException.invalid("role '" + r + "' is limited to environments " + role.environments()
                        + ", not '" + environment + "'");
            }
            if (!out.contains(r)) {
                out.add(r);
            }
        }
        return List.copyOf(out);
    }

    public static String checkName(String name) {
        if (name.isBlank() || name.length() > 255 || name.chars().anyMatch(Character::isISOControl)) {
            throw AgentException.invalid("name must be 1 to 255 printable characters");
        }
        return name;
    }

    public static String checkOwner(String owner) {
        if (owner == null || owner.isBlank()) {
            return null;
        }
        if (owner.length() > 255 || owner.chars().anyMatch(Character::isISOControl)) {
            throw AgentException.invalid("owner must be at most 255 printable characters");
        }
        return owner;
    }

    public static Map<String, Object> checkMetadata(Map<String, Object> metadata) {
        if (metadata == null) {
            return Map.of();
        }
        try {
            if (JSON.writeValueAsString(metadata).length() > MAX_METADATA_JSON) {
                throw AgentException.invalid("metadata is larger than " + MAX_METADATA_JSON + " bytes");
            }
        } catch (JsonProcessingException e) {
            throw AgentException.invalid("metadata must be a JSON object");
        }
        // (immutable maps throw on containsKey(null): look at the entries)
        if (metadata.entrySet().stream().anyMatch(e -> e.getKey() == null || e.getValue() == null)) {
            throw AgentException.invalid("metadata must not hold null keys or values");
        }
        return metadata;
    }

    /** What an audit entry shows of an agent: everything but credentials. */
    public static Map<String, Object> summary(Agent a) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", a.name());
        m.put("owner", a.owner());
        m.put("environment", a.environment());
        m.put("roles", a.roles());
        m.put("metadata", a.metadata());
        m.put("status", a.status().wire());
        m.put("auth_method", a.authMethod().wire());
        return m;
    }

    /** What an audit entry shows of a credential: its identity, never the key material itself. */
    public static Map<String, Object> credentialSummary(AgentCredential c) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", c.id());
        m.put("kind", c.kind().name().toLowerCase());
        if (c.thumbprint() != null) {
            m.put("x5t#S256", c.thumbprint());
        }
        if (c.kind() == AgentCredential.Kind.JWKS_URI) {
            m.put("jwks_uri", c.material());
        }
        if (c.notAfter() != null) {
            m.put("not_after", c.notAfter());
        }
        return m;
    }

    private AuditEvent.Builder event(String tenant, String type, Actor actor, RequestMeta meta, String agentId) {
        AuditEvent.Builder b = AuditEvent.of(tenant, type, AuditEvent.Outcome.SUCCESS).agent(agentId).request(meta)
                .detail("actor", actor.label());
        if (actor.type() == Actor.Type.ADMIN) {
            b.client(actor.id());
        }
        return b;
    }

    static String newId() {
        return "agt-" + random(26);
    }

    private static String random(int n) {
        StringBuilder sb = new StringBuilder(n);
        for (int i = 0; i < n; i++) {
            sb.append(ID_CHARS[RANDOM.nextInt(ID_CHARS.length)]);
        }
        return sb.toString();
    }

    static String clip(String s) {
        if (s == null) {
            return null;
        }
        String t = s.replaceAll("\\p{Cntrl}", "?");
        return t.length() > 200 ? t.substring(0, 200) : t;
    }
}
