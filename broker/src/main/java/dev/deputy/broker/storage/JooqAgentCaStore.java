package dev.deputy.broker.storage;

import dev.deputy.broker.pki.AgentCaStore;
import jakarta.inject.Singleton;

import java.util.Optional;

import static dev.deputy.broker.storage.jooq.Tables.AGENT_CAS;

@Singleton
class JooqAgentCaStore implements AgentCaStore {
    private final Database db;

    JooqAgentCaStore(Database db) {
        this.db = db;
    }

    @Override
    public Optional<StoredCa> find(String tenantId) {
        return db.read(dsl -> dsl.selectFrom(AGENT_CAS).where(AGENT_CAS.TENANT_ID.eq(tenantId))
                .fetchOptional(r -> new StoredCa(r.getTenantId(), r.getCertificate(), r.getPrivateKeySealed(),
                        r.getCreatedAt())));
    }

    @Override
    public void insertIfAbsent(StoredCa ca) {
        db.tx(dsl -> dsl.insertInto(AGENT_CAS)
                .set(AGENT_CAS.TENANT_ID, ca.tenantId())
                .set(AGENT_CAS.CERTIFICATE, ca.certificatePem())
                .set(AGENT_CAS.PRIVATE_KEY_SEALED, ca.privateKeySealed())
                .set(AGENT_CAS.CREATED_AT, ca.createdAt())
                .onDuplicateKeyIgnore()
                .execute());
    }
}
