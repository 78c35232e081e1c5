package dev.deputy.broker.storage;

import dev.deputy.broker.pki.AgentCaStore;
import jakarta.inject.Singleton;
import org.jooq.Field;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

import static dev.deputy.broker.storage.jooq.Tables.AGENT_CAS;

/** Agent CAs; a row that fails its master-key MAC ({@link SealedRows}) is never found (its certificate is not trusted). */
@Singleton
class JooqAgentCaStore implements AgentCaStore {
    private final Database db;
    private final SealedRows sealed;

    JooqAgentCaStore(Database db, SealedRows sealed) {
        this.db = db;
        this.sealed = sealed;
    }

    @Override
    public Optional<StoredCa> find(String tenantId) {
        return sealed.validOne(SealedRows.AGENT_CA, () -> db.read(dsl -> dsl.selectFrom(AGENT_CAS)
                        .where(AGENT_CAS.TENANT_ID.eq(tenantId)).fetchOptional()))
                .map(r -> new StoredCa(r.getTenantId(), r.getCertificate(), r.getPrivateKeySealed(), r.getCreatedAt()));
    }

    @Override
    public void insertIfAbsent(StoredCa ca) {
        Map<Field<?>, Object> row = new LinkedHashMap<>();
        row.put(AGENT_CAS.TENANT_ID, ca.tenantId());
        row.put(AGENT_CAS.CERTIFICATE, ca.certificatePem());
        row.put(AGENT_CAS.PRIVATE_KEY_SEALED, ca.privateKeySealed());
        row.put(AGENT_CAS.CREATED_AT, ca.createdAt());
        String mac = sealed.mac(SealedRows.AGENT_CA, row);
        db.tx(dsl -> dsl.insertInto(AGENT_CAS).set(row).set(AGENT_CAS.ROW_MAC, mac).onDuplicateKeyIgnore().execute());
    }
}
