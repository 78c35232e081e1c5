package dev.deputy.broker.storage;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.deputy.broker.agent.Agent;
import dev.deputy.broker.agent.AgentCredential;
import dev.deputy.broker.agent.AgentStore;
import dev.deputy.broker.agent.Resource;
import dev.deputy.broker.agent.Role;
import jakarta.inject.Singleton;
import org.jooq.Record;

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
    private final Map<String, Long> lastSeenWritten = new ConcurrentHashMap<>();

    JooqAgentStore(Database db) {
        this.db = db;
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
        return db.read(dsl -> dsl.selectFrom(AGENTS).where(AGENTS.TENANT_ID.eq(tenantId).and(AGENTS.ID.eq(id)))
                .fetchOptional(JooqAgentStore::agent));
    }

    @Override
    public List<Agent> listAgents(String tenantId) {
        return db.read(dsl -> dsl.selectFrom(AGENTS).where(AGENTS.TENANT_ID.eq(tenantId)).orderBy(AGENTS.ID)
                .fetch(JooqAgentStore::agent));
    }

    @Override
    public void saveAgent(Agent a) {
        db.tx(dsl -> {
            int n = dsl.update(AGENTS)
                    .set(AGENTS.NAME, a.name()).set(AGENTS.OWNER, a.owner()).set(AGENTS.ENVIRONMENT, a.environment())
                    .set(AGENTS.ROLES, json(a.roles())).set(AGENTS.METADATA, json(a.metadata()))
                    .set(AGENTS.STATUS, a.status().name()).set(AGENTS.AUTH_METHOD, a.authMethod().wire())
                    .set(AGENTS.MANAGED_BY, a.managedBy()).set(AGENTS.UPDATED_AT, a.updatedAt())
                    .set(AGENTS.STATUS_CHANGED_AT, a.statusChangedAt())
                    .where(AGENTS.TENANT_ID.eq(a.tenantId()).and(AGENTS.ID.eq(a.id()))).execute();
            if (n == 0) {
                dsl.insertInto(AGENTS)
                        .set(AGENTS.TENANT_ID, a.tenantId()).set(AGENTS.ID, a.id()).set(AGENTS.NAME, a.name())
                        .set(AGENTS.OWNER, a.owner()).set(AGENTS.ENVIRONMENT, a.environment())
                        .set(AGENTS.ROLES, json(a.roles())).set(AGENTS.METADATA, json(a.metadata()))
                        .set(AGENTS.STATUS, a.status().name()).set(AGENTS.AUTH_METHOD, a.authMethod().wire())
                        .set(AGENTS.MANAGED_BY, a.managedBy()).set(AGENTS.CREATED_AT, a.createdAt())
                        .set(AGENTS.UPDATED_AT, a.updatedAt()).set(AGENTS.STATUS_CHANGED_AT, a.statusChangedAt())
                        .set(AGENTS.LAST_SEEN_AT, a.lastSeenAt()).execute();
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
        return db.read(dsl -> dsl.selectFrom(AGENT_CREDENTIALS)
                .where(AGENT_CREDENTIALS.TENANT_ID.eq(tenantId).and(AGENT_CREDENTIALS.AGENT_ID.eq(agentId)))
                .orderBy(AGENT_CREDENTIALS.CREATED_AT).fetch(JooqAgentStore::credential));
    }

    @Override
    public Optional<AgentCredential> credentialByThumbprint(String tenantId, String thumbprint) {
        return db.read(dsl -> dsl.selectFrom(AGENT_CREDENTIALS)
                .where(AGENT_CREDENTIALS.TENANT_ID.eq(tenantId).and(AGENT_CREDENTIALS.THUMBPRINT.eq(thumbprint)))
                .orderBy(AGENT_CREDENTIALS.CREATED_AT.desc()).limit(1).fetchOptional(JooqAgentStore::credential));
    }

    @Override
    public void saveCredential(AgentCredential c) {
        db.tx(dsl -> {
            int n = dsl.update(AGENT_CREDENTIALS)
                    .set(AGENT_CREDENTIALS.STATUS, c.status().name())
                    .set(AGENT_CREDENTIALS.VALID_UNTIL, c.validUntil())
                    .set(AGENT_CREDENTIALS.MATERIAL, c.material())
                    .where(AGENT_CREDENTIALS.TENANT_ID.eq(c.tenantId()).and(AGENT_CREDENTIALS.ID.eq(c.id()))).execute();
            if (n == 0) {
                dsl.insertInto(AGENT_CREDENTIALS)
                        .set(AGENT_CREDENTIALS.TENANT_ID, c.tenantId()).set(AGENT_CREDENTIALS.ID, c.id())
                        .set(AGENT_CREDENTIALS.AGENT_ID, c.agentId()).set(AGENT_CREDENTIALS.KIND, c.kind().name())
                        .set(AGENT_CREDENTIALS.THUMBPRINT, c.thumbprint()).set(AGENT_CREDENTIALS.SERIAL, c.serial())
                        .set(AGENT_CREDENTIALS.MATERIAL, c.material()).set(AGENT_CREDENTIALS.NOT_BEFORE, c.notBefore())
                        .set(AGENT_CREDENTIALS.NOT_AFTER, c.notAfter()).set(AGENT_CREDENTIALS.VALID_UNTIL, c.validUntil())
                        .set(AGENT_CREDENTIALS.STATUS, c.status().name())
                        .set(AGENT_CREDENTIALS.CREATED_AT, c.createdAt()).execute();
            }
            return null;
        });
    }

    @Override
    public void limitCredentials(String tenantId, String agentId, long validUntil, String exceptCredentialId) {
        db.tx(dsl -> dsl.update(AGENT_CREDENTIALS).set(AGENT_CREDENTIALS.VALID_UNTIL, validUntil)
                .where(AGENT_CREDENTIALS.TENANT_ID.eq(tenantId).and(AGENT_CREDENTIALS.AGENT_ID.eq(agentId))
                        .and(AGENT_CREDENTIALS.STATUS.eq(AgentCredential.Status.ACTIVE.name()))
                        .and(AGENT_CREDENTIALS.VALID_UNTIL.isNull().or(AGENT_CREDENTIALS.VALID_UNTIL.gt(validUntil)))
                        .and(exceptCredentialId == null ? org.jooq.impl.DSL.trueCondition()
                                : AGENT_CREDENTIALS.ID.ne(exceptCredentialId)))
                .execute());
    }

    @Override
    public void revokeCredentials(String tenantId, String agentId) {
        db.tx(dsl -> dsl.update(AGENT_CREDENTIALS).set(AGENT_CREDENTIALS.STATUS, AgentCredential.Status.REVOKED.name())
                .where(AGENT_CREDENTIALS.TENANT_ID.eq(tenantId).and(AGENT_CREDENTIALS.AGENT_ID.eq(agentId))).execute());
    }

    @Override
    public List<Role> listRoles(String tenantId) {
        return db.read(dsl -> dsl.selectFrom(ROLES).where(ROLES.TENANT_ID.eq(tenantId)).orderBy(ROLES.NAME)
                .fetch(r -> new Role(r.getTenantId(), r.getName(), r.getDescription(), parse(r.getScopes(), LIST),
                        parse(r.getEnvironments(), LIST), r.getManagedBy())));
    }

    @Override
    public void saveRole(Role role) {
        long now = System.currentTimeMillis();
        db.tx(dsl -> dsl.insertInto(ROLES)
                .set(ROLES.TENANT_ID, role.tenantId()).set(ROLES.NAME, role.name())
                .set(ROLES.DESCRIPTION, role.description()).set(ROLES.SCOPES, json(role.scopes()))
                .set(ROLES.ENVIRONMENTS, json(role.environments())).set(ROLES.MANAGED_BY, role.managedBy())
                .set(ROLES.UPDATED_AT, now)
                .onDuplicateKeyUpdate()
                .set(ROLES.DESCRIPTION, role.description()).set(ROLES.SCOPES, json(role.scopes()))
                .set(ROLES.ENVIRONMENTS, json(role.environments())).set(ROLES.MANAGED_BY, role.managedBy())
                .set(ROLES.UPDATED_AT, now).execute());
    }

    @Override
    public void deleteRole(String tenantId, String name) {
        db.tx(dsl -> dsl.deleteFrom(ROLES).where(ROLES.TENANT_ID.eq(tenantId).and(ROLES.NAME.eq(name))).execute());
    }

    @Override
    public List<Resource> listResources(String tenantId) {
        return db.read(dsl -> dsl.selectFrom(RESOURCES).where(RESOURCES.TENANT_ID.eq(tenantId)).orderBy(RESOURCES.ID)
                .fetch(r -> new Resource(r.getTenantId(), r.getId(), r.getUri(), r.getName(), parse(r.getScopes(), LIST),
                        r.getIsDefault(), r.getManagedBy())));
    }

    @Override
    public void saveResource(Resource res) {
        long now = System.currentTimeMillis();
        db.tx(dsl -> dsl.insertInto(RESOURCES)
                .set(RESOURCES.TENANT_ID, res.tenantId()).set(RESOURCES.ID, res.id()).set(RESOURCES.URI, res.uri())
                .set(RESOURCES.NAME, res.name()).set(RESOURCES.SCOPES, json(res.scopes()))
                .set(RESOURCES.IS_DEFAULT, res.isDefault()).set(RESOURCES.MANAGED_BY, res.managedBy())
                .set(RESOURCES.UPDATED_AT, now)
                .onDuplicateKeyUpdate()
                .set(RESOURCES.URI, res.uri()).set(RESOURCES.NAME, res.name()).set(RESOURCES.SCOPES, json(res.scopes()))
                .set(RESOURCES.IS_DEFAULT, res.isDefault()).set(RESOURCES.MANAGED_BY, res.managedBy())
                .set(RESOURCES.UPDATED_AT, now).execute());
    }

    @Override
    public void deleteResource(String tenantId, String id) {
        db.tx(dsl -> dsl.deleteFrom(RESOURCES).where(RESOURCES.TENANT_ID.eq(tenantId).and(RESOURCES.ID.eq(id))).execute());
    }
}
