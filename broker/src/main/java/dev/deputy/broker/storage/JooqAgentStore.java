package dev.deputy.broker.storage;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.deputy.broker.agent.Agent;
import dev.deputy.broker.agent.AgentCredential;
import dev.deputy.broker.agent.AgentQuery;
import dev.deputy.broker.agent.AgentStore;
import dev.deputy.broker.agent.Resource;
import dev.deputy.broker.agent.Role;
import jakarta.inject.Singleton;
import org.jooq.Condition;
import org.jooq.Field;
import org.jooq.Record;
import org.jooq.impl.DSL;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

import static dev.deputy.broker.storage.jooq.Tables.AGENTS;
import static dev.deputy.broker.storage.jooq.Tables.AGENT_CREDENTIALS;
import static dev.deputy.broker.storage.jooq.Tables.RESOURCES;
import static dev.deputy.broker.storage.jooq.Tables.ROLES;

@Singleton
class JooqAgentStore implements AgentStore {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final TypeReference<List<String>> LIST = new TypeReference<>() {
    };
    private static final TypeReference<Map<String, Object>> MAP = new TypeReference<>() {
    };
    private static final long LAST_SEEN_GRANULARITY_MS = 60_000;

    private final Database db;
    private final SealedRows sealed;
    private final Map<String, Long> lastSeenWritten = new ConcurrentHashMap<>();

    JooqAgentStore(Database db, SealedRows sealed) {
        this.db = db;
        this.sealed = sealed;
    }

    static String json(Object o) {
        try {
            return JSON.writeValueAsString(o);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(e);
        }
    }

    static <T> T parse(String s, TypeReference<T> type) {
        try {
            return JSON.readValue(s, type);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("corrupt JSON column", e);
        }
    }

    private static Agent agent(Record r) {
        return new Agent(r.get(AGENTS.TENANT_ID), r.get(AGENTS.ID), r.get(AGENTS.NAME), r.get(AGENTS.OWNER),
                r.get(AGENTS.ENVIRONMENT), parse(r.get(AGENTS.ROLES), LIST), parse(r.get(AGENTS.METADATA), MAP),
                Agent.Status.valueOf(r.get(AGENTS.STATUS)), Agent.AuthMethod.fromWire(r.get(AGENTS.AUTH_METHOD)),
                r.get(AGENTS.MANAGED_BY), r.get(AGENTS.CREATED_AT), r.get(AGENTS.UPDATED_AT),
                r.get(AGENTS.STATUS_CHANGED_AT), r.get(AGENTS.LAST_SEEN_AT));
    }

    @Override
    public Optional<Agent> findAgent(String tenantId, String id) {
        return sealed.validOne(SealedRows.AGENT, () -> db.read(dsl -> dsl.selectFrom(AGENTS)
                .where(AGENTS.TENANT_ID.eq(tenantId).and(AGENTS.ID.eq(id))).fetchOptional())).map(JooqAgentStore::agent);
    }

    @Override
    public List<Agent> listAgents(String tenantId) {
        return sealed.valid(SealedRows.AGENT, () -> db.read(dsl -> dsl.selectFrom(AGENTS).where(AGENTS.TENANT_ID.eq(tenantId))
                .orderBy(AGENTS.ID).fetch())).stream().map(JooqAgentStore::agent).toList();
    }

    /** Active agents idle since {@code cutoff}: {@link dev.deputy.broker.agent.Dormancy#lastActivity} in SQL. */
    private static Condition dormantSince(long cutoff) {
        return AGENTS.STATUS.eq(Agent.Status.ACTIVE.name())
                .and(DSL.coalesce(AGENTS.LAST_SEEN_AT, AGENTS.CREATED_AT).le(cutoff))
                .and(AGENTS.STATUS_CHANGED_AT.isNull().or(AGENTS.STATUS_CHANGED_AT.le(cutoff)));
    }

    @Override
    public StatusCounts countByStatus(String tenantId, long dormantCutoff) {
        // one aggregate over the tenant's primary-key range: no row leaves the database
        long[] n = new long[4];
        db.read(dsl -> dsl.select(AGENTS.STATUS, DSL.count(), DSL.count().filterWhere(dormantSince(dormantCutoff)))
                .from(AGENTS).where(AGENTS.TENANT_ID.eq(tenantId)).groupBy(AGENTS.STATUS).fetch())
                .forEach(r -> {
                    n[Agent.Status.valueOf(r.value1()).ordinal()] += r.value2();
                    n[3] += r.value3();
                });
        return new StatusCounts(n[0], n[1], n[2], n[3]);
    }

    @Override
    public List<Agent> dormant(String tenantId, long dormantCutoff, int limit) {
        Field<Long> last = DSL.greatest(DSL.coalesce(AGENTS.LAST_SEEN_AT, AGENTS.CREATED_AT),
                DSL.coalesce(AGENTS.STATUS_CHANGED_AT, DSL.inline(0L)));
        return sealed.valid(SealedRows.AGENT, () -> db.read(dsl -> dsl.selectFrom(AGENTS)
                .where(AGENTS.TENANT_ID.eq(tenantId).and(dormantSince(dormantCutoff)))
                .orderBy(last, AGENTS.ID).limit(limit).fetch())).stream().map(JooqAgentStore::agent).toList();
    }

    @Override
    public AgentQuery.Page findAgents(String tenantId, AgentQuery q, int offset, int limit) {
        // every filter in SQL: a page reads its own rows (and verifies their MACs), the count reads index entries
        // only (V185: status, owner and environment each lead an index after the tenant). The search is a scan of
        // the tenant's rows in the database (LIKE '%needle%'), not of parsed agents in the broker.
        List<Condition> where = new ArrayList<>();
        where.add(AGENTS.TENANT_ID.eq(tenantId));
        if (q.status() != null) {
            where.add(AGENTS.STATUS.eq(q.status().name()));
        }
        if (q.environment() != null) {
            where.add(AGENTS.ENVIRONMENT.eq(q.environment()));
        }
        if (q.owner() != null) {
            where.add(AGENTS.OWNER.eq(q.owner()));
        }
        if (q.owners() != null) {
            where.add(q.owners().isEmpty() ? DSL.falseCondition() : AGENTS.OWNER.in(q.owners()));
        }
        if (q.role() != null) {
            // roles is the JSON array Jackson wrote: the role's JSON string, quotes included, is one whole element
            where.add(AGENTS.ROLES.contains(json(q.role())));
        }
        if (q.search() != null) {
            where.add(AGENTS.ID.contains(q.search()).or(DSL.lower(AGENTS.NAME).contains(q.search()))
                    .or(DSL.lower(AGENTS.OWNER).contains(q.search())));
        }
        List<Agent> page = sealed.valid(SealedRows.AGENT, () -> db.read(dsl -> dsl.selectFrom(AGENTS).where(where)
                // the primary key's order; on MySQL/MariaDB only because the connection speaks the columns'
                // collation (Database: otherwise naming tenant_id made MariaDB sort the tenant's whole registry)
                .orderBy(AGENTS.TENANT_ID, AGENTS.ID)
                .limit(limit).offset(Math.max(0, offset)).fetch()))
                .stream().map(JooqAgentStore::agent).toList();
        int total = page.isEmpty() && offset == 0 ? 0 : db.read(dsl -> dsl.fetchCount(AGENTS, DSL.and(where)));
        return new AgentQuery.Page(page, total);
    }

    /** The agent's columns that {@link #saveAgent} writes in both branches (not the key, created_at, last_seen_at). */
    private static Map<Field<?>, Object> changeable(Agent a) {
        Map<Field<?>, Object> row = new LinkedHashMap<>();
        row.put(AGENTS.NAME, a.name());
        row.put(AGENTS.OWNER, a.owner());
        row.put(AGENTS.ENVIRONMENT, a.environment());
        row.put(AGENTS.ROLES, json(a.roles()));
        row.put(AGENTS.METADATA, json(a.metadata()));
        row.put(AGENTS.STATUS, a.status().name());
        row.put(AGENTS.AUTH_METHOD, a.authMethod().wire());
        row.put(AGENTS.MANAGED_BY, a.managedBy());
        row.put(AGENTS.UPDATED_AT, a.updatedAt());
        row.put(AGENTS.STATUS_CHANGED_AT, a.statusChangedAt());
        return row;
    }

    /** The changeable columns and the key: what the row's MAC is computed over (and bulk loaders insert). */
    static Map<Field<?>, Object> row(Agent a) {
        Map<Field<?>, Object> full = changeable(a);
        full.put(AGENTS.TENANT_ID, a.tenantId());
        full.put(AGENTS.ID, a.id());
        return full;
    }

    @Override
    public void saveAgent(Agent a) {
        // every MAC-covered column is written by both branches: the row's MAC is the MAC of what is written
        Map<Field<?>, Object> row = changeable(a);
        Map<Field<?>, Object> full = row(a);
        String mac = sealed.mac(SealedRows.AGENT, full);
        db.tx(dsl -> {
            int n = dsl.update(AGENTS).set(row).set(AGENTS.ROW_MAC, mac)
                    .where(AGENTS.TENANT_ID.eq(a.tenantId()).and(AGENTS.ID.eq(a.id()))).execute();
            if (n == 0) {
                full.put(AGENTS.CREATED_AT, a.createdAt());
                full.put(AGENTS.LAST_SEEN_AT, a.lastSeenAt());
                dsl.insertInto(AGENTS).set(full).set(AGENTS.ROW_MAC, mac).execute();
            }
            return null;
        });
    }

    @Override
    public void deleteAgent(String tenantId, String id) {
        db.tx(dsl -> dsl.deleteFrom(AGENTS).where(AGENTS.TENANT_ID.eq(tenantId).and(AGENTS.ID.eq(id))).execute());
    }

    @Override
    public void touchLastSeen(String tenantId, String id, long now) {
        String key = tenantId + "/" + id;
        Long last = lastSeenWritten.get(key);
        if (last != null && now - last < LAST_SEEN_GRANULARITY_MS) {
            return;
        }
        lastSeenWritten.put(key, now);
        db.tx(dsl -> dsl.update(AGENTS).set(AGENTS.LAST_SEEN_AT, now)
                .where(AGENTS.TENANT_ID.eq(tenantId).and(AGENTS.ID.eq(id))).execute());
    }

    private static AgentCredential credential(Record r) {
        return new AgentCredential(r.get(AGENT_CREDENTIALS.TENANT_ID), r.get(AGENT_CREDENTIALS.ID),
                r.get(AGENT_CREDENTIALS.AGENT_ID), AgentCredential.Kind.valueOf(r.get(AGENT_CREDENTIALS.KIND)),
                r.get(AGENT_CREDENTIALS.THUMBPRINT), r.get(AGENT_CREDENTIALS.SERIAL), r.get(AGENT_CREDENTIALS.MATERIAL),
                r.get(AGENT_CREDENTIALS.NOT_BEFORE), r.get(AGENT_CREDENTIALS.NOT_AFTER),
                r.get(AGENT_CREDENTIALS.VALID_UNTIL), AgentCredential.Status.valueOf(r.get(AGENT_CREDENTIALS.STATUS)),
                r.get(AGENT_CREDENTIALS.CREATED_AT));
    }

    @Override
    public List<AgentCredential> credentials(String tenantId, String agentId) {
        return sealed.valid(SealedRows.AGENT_CREDENTIAL, () -> db.read(dsl -> dsl.selectFrom(AGENT_CREDENTIALS)
                .where(AGENT_CREDENTIALS.TENANT_ID.eq(tenantId).and(AGENT_CREDENTIALS.AGENT_ID.eq(agentId)))
                .orderBy(AGENT_CREDENTIALS.CREATED_AT).fetch())).stream().map(JooqAgentStore::credential).toList();
    }

    @Override
    public Optional<AgentCredential> credentialByThumbprint(String tenantId, String thumbprint) {
        // the newest row that verifies: a planted newer row must neither be used nor hide the real one
        return sealed.valid(SealedRows.AGENT_CREDENTIAL, () -> db.read(dsl -> dsl.selectFrom(AGENT_CREDENTIALS)
                .where(AGENT_CREDENTIALS.TENANT_ID.eq(tenantId).and(AGENT_CREDENTIALS.THUMBPRINT.eq(thumbprint)))
                .orderBy(AGENT_CREDENTIALS.CREATED_AT.desc()).limit(20).fetch()))
                .stream().findFirst().map(JooqAgentStore::credential);
    }

    @Override
    public void saveCredential(AgentCredential c) {
        Condition key = AGENT_CREDENTIALS.TENANT_ID.eq(c.tenantId()).and(AGENT_CREDENTIALS.ID.eq(c.id()));
        db.tx(dsl -> {
            if (dsl.fetchExists(AGENT_CREDENTIALS, key)) {
                // an update keeps the stored identity columns: only a row that verifies is changed (and re-MACed)
                Map<Field<?>, Object> changes = new LinkedHashMap<>();
                changes.put(AGENT_CREDENTIALS.STATUS, c.status().name());
                changes.put(AGENT_CREDENTIALS.VALID_UNTIL, c.validUntil());
                changes.put(AGENT_CREDENTIALS.MATERIAL, c.material());
                return sealed.update(dsl, SealedRows.AGENT_CREDENTIAL, key, changes);
            }
            Map<Field<?>, Object> row = new LinkedHashMap<>();
            row.put(AGENT_CREDENTIALS.TENANT_ID, c.tenantId());
            row.put(AGENT_CREDENTIALS.ID, c.id());
            row.put(AGENT_CREDENTIALS.AGENT_ID, c.agentId());
            row.put(AGENT_CREDENTIALS.KIND, c.kind().name());
            row.put(AGENT_CREDENTIALS.THUMBPRINT, c.thumbprint());
            row.put(AGENT_CREDENTIALS.SERIAL, c.serial());
            row.put(AGENT_CREDENTIALS.MATERIAL, c.material());
            row.put(AGENT_CREDENTIALS.NOT_BEFORE, c.notBefore());
            row.put(AGENT_CREDENTIALS.NOT_AFTER, c.notAfter());
            row.put(AGENT_CREDENTIALS.VALID_UNTIL, c.validUntil());
            row.put(AGENT_CREDENTIALS.STATUS, c.status().name());
            row.put(AGENT_CREDENTIALS.CREATED_AT, c.createdAt());
            return dsl.insertInto(AGENT_CREDENTIALS).set(row)
                    .set(AGENT_CREDENTIALS.ROW_MAC, sealed.mac(SealedRows.AGENT_CREDENTIAL, row)).execute();
        });
    }

    @Override
    public void limitCredentials(String tenantId, String agentId, long validUntil, String exceptCredentialId) {
        db.tx(dsl -> sealed.update(dsl, SealedRows.AGENT_CREDENTIAL,
                AGENT_CREDENTIALS.TENANT_ID.eq(tenantId).and(AGENT_CREDENTIALS.AGENT_ID.eq(agentId))
                        .and(AGENT_CREDENTIALS.STATUS.eq(AgentCredential.Status.ACTIVE.name()))
                        .and(AGENT_CREDENTIALS.VALID_UNTIL.isNull().or(AGENT_CREDENTIALS.VALID_UNTIL.gt(validUntil)))
                        .and(exceptCredentialId == null ? org.jooq.impl.DSL.trueCondition()
                                : AGENT_CREDENTIALS.ID.ne(exceptCredentialId)),
                Map.of(AGENT_CREDENTIALS.VALID_UNTIL, validUntil)));
    }

    @Override
    public void revokeCredentials(String tenantId, String agentId) {
        // rows that fail their MAC are not used anyway; they stay as found (evidence), unblessed
        db.tx(dsl -> sealed.update(dsl, SealedRows.AGENT_CREDENTIAL,
                AGENT_CREDENTIALS.TENANT_ID.eq(tenantId).and(AGENT_CREDENTIALS.AGENT_ID.eq(agentId)),
                Map.of(AGENT_CREDENTIALS.STATUS, AgentCredential.Status.REVOKED.name())));
    }

    @Override
    public List<Role> listRoles(String tenantId) {
        return sealed.valid(SealedRows.ROLE, () -> db.read(dsl -> dsl.selectFrom(ROLES).where(ROLES.TENANT_ID.eq(tenantId))
                .orderBy(ROLES.NAME).fetch())).stream().map(r -> new Role(r.getTenantId(), r.getName(), r.getDescription(), parse(r.getScopes(), LIST),
                        parse(r.getEnvironments(), LIST), r.getManagedBy())).toList();
    }

    @Override
    public void saveRole(Role role) {
        long now = System.currentTimeMillis();
        Map<Field<?>, Object> row = new LinkedHashMap<>();
        row.put(ROLES.TENANT_ID, role.tenantId());
        row.put(ROLES.NAME, role.name());
        row.put(ROLES.DESCRIPTION, role.description());
        row.put(ROLES.SCOPES, json(role.scopes()));
        row.put(ROLES.ENVIRONMENTS, json(role.environments()));
        row.put(ROLES.MANAGED_BY, role.managedBy());
        String mac = sealed.mac(SealedRows.ROLE, row);
        db.tx(dsl -> dsl.insertInto(ROLES).set(row).set(ROLES.UPDATED_AT, now).set(ROLES.ROW_MAC, mac)
                .onDuplicateKeyUpdate()
                .set(ROLES.DESCRIPTION, role.description()).set(ROLES.SCOPES, json(role.scopes()))
                .set(ROLES.ENVIRONMENTS, json(role.environments())).set(ROLES.MANAGED_BY, role.managedBy())
                .set(ROLES.UPDATED_AT, now).set(ROLES.ROW_MAC, mac).execute());
    }

    @Override
    public void deleteRole(String tenantId, String name) {
        db.tx(dsl -> dsl.deleteFrom(ROLES).where(ROLES.TENANT_ID.eq(tenantId).and(ROLES.NAME.eq(name))).execute());
    }

    @Override
    public List<Resource> listResources(String tenantId) {
        return sealed.valid(SealedRows.RESOURCE, () -> db.read(dsl -> dsl.selectFrom(RESOURCES)
                .where(RESOURCES.TENANT_ID.eq(tenantId)).orderBy(RESOURCES.ID).fetch())).stream().map(r -> new Resource(r.getTenantId(), r.getId(), r.getUri(), r.getName(), parse(r.getScopes(), LIST),
                        r.getIsDefault(), r.getManagedBy())).toList();
    }

    @Override
    public void saveResource(Resource res) {
        long now = System.currentTimeMillis();
        Map<Field<?>, Object> row = new LinkedHashMap<>();
        row.put(RESOURCES.TENANT_ID, res.tenantId());
        row.put(RESOURCES.ID, res.id());
        row.put(RESOURCES.URI, res.uri());
        row.put(RESOURCES.NAME, res.name());
        row.put(RESOURCES.SCOPES, json(res.scopes()));
        row.put(RESOURCES.IS_DEFAULT, res.isDefault());
        row.put(RESOURCES.MANAGED_BY, res.managedBy());
        String mac = sealed.mac(SealedRows.RESOURCE, row);
        db.tx(dsl -> dsl.insertInto(RESOURCES).set(row).set(RESOURCES.UPDATED_AT, now).set(RESOURCES.ROW_MAC, mac)
                .onDuplicateKeyUpdate().set(RESOURCES.ROW_MAC, mac)
                .set(RESOURCES.URI, res.uri()).set(RESOURCES.NAME, res.name()).set(RESOURCES.SCOPES, json(res.scopes()))
                .set(RESOURCES.IS_DEFAULT, res.isDefault()).set(RESOURCES.MANAGED_BY, res.managedBy())
                .set(RESOURCES.UPDATED_AT, now).execute());
    }

    @Override
    public void deleteResource(String tenantId, String id) {
        db.tx(dsl -> dsl.deleteFrom(RESOURCES).where(RESOURCES.TENANT_ID.eq(tenantId).and(RESOURCES.ID.eq(id))).execute());
    }
}
