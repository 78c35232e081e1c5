package dev.deputy.broker.storage;

import dev.deputy.broker.audit.AuditEntry;
import dev.deputy.broker.audit.AuditStore;
import jakarta.inject.Singleton;
import org.jooq.InsertValuesStepN;
import org.jooq.Record;
import org.jooq.exception.IntegrityConstraintViolationException;

import java.util.List;
import java.util.Optional;

import static dev.deputy.broker.storage.jooq.Tables.AUDIT_LOG;

@Singleton
class JooqAuditStore implements AuditStore {
    private final Database db;

    JooqAuditStore(Database db) {
        this.db = db;
    }

    @Override
    public Optional<AuditEntry> head(String tenantId) {
        return db.read(dsl -> dsl.selectFrom(AUDIT_LOG).where(AUDIT_LOG.TENANT_ID.eq(tenantId))
                .orderBy(AUDIT_LOG.SEQ.desc()).limit(1).fetchOptional(JooqAuditStore::map));
    }

    @Override
    public void insert(List<AuditEntry> entries) {
        try {
            db.tx(dsl -> {
                var insert = dsl.insertInto(AUDIT_LOG, AUDIT_LOG.TENANT_ID, AUDIT_LOG.SEQ, AUDIT_LOG.AT_MS,
                        AUDIT_LOG.EVENT_TYPE, AUDIT_LOG.OUTCOME, AUDIT_LOG.SUBJECT, AUDIT_LOG.SUBJECT_ISS, AUDIT_LOG.ACTOR,
                        AUDIT_LOG.AGENT_ID, AUDIT_LOG.CLIENT_ID, AUDIT_LOG.RESOURCE, AUDIT_LOG.SCOPES,
                        AUDIT_LOG.CORRELATION_ID, AUDIT_LOG.REQUEST_ID, AUDIT_LOG.SOURCE_IP, AUDIT_LOG.DETAILS,
                        AUDIT_LOG.PREV_HASH, AUDIT_LOG.HASH);
                for (AuditEntry e : entries) {
                    insert = insert.values(e.tenantId(), e.seq(), e.atMs(), e.type(), e.outcome(), e.subject(),
                            e.subjectIss(), e.actor(), e.agentId(), e.clientId(), e.resource(), e.scopes(),
                            e.correlationId(), e.requestId(), e.sourceIp(), e.details(), e.prevHash(), e.hash());
                }
                return insert.execute();
            });
        } catch (IntegrityConstraintViolationException e) {
            throw new SeqConflict(e);
        }
    }

    @Override
    public List<AuditEntry> range(String tenantId, long fromSeq, int limit) {
        return db.read(dsl -> dsl.selectFrom(AUDIT_LOG)
                .where(AUDIT_LOG.TENANT_ID.eq(tenantId).and(AUDIT_LOG.SEQ.ge(fromSeq)))
                .orderBy(AUDIT_LOG.SEQ).limit(limit).fetch(JooqAuditStore::map));
    }

    @Override
    public Optional<AuditEntry> findByHash(String tenantId, String hash) {
        return db.read(dsl -> dsl.selectFrom(AUDIT_LOG)
                .where(AUDIT_LOG.TENANT_ID.eq(tenantId).and(AUDIT_LOG.HASH.eq(hash)))
                .limit(1).fetchOptional(JooqAuditStore::map));
    }

    static AuditEntry map(Record r) {
        return new AuditEntry(r.get(AUDIT_LOG.TENANT_ID), r.get(AUDIT_LOG.SEQ), r.get(AUDIT_LOG.AT_MS),
                r.get(AUDIT_LOG.EVENT_TYPE), r.get(AUDIT_LOG.OUTCOME), r.get(AUDIT_LOG.SUBJECT),
                r.get(AUDIT_LOG.SUBJECT_ISS), r.get(AUDIT_LOG.ACTOR), r.get(AUDIT_LOG.AGENT_ID),
                r.get(AUDIT_LOG.CLIENT_ID), r.get(AUDIT_LOG.RESOURCE), r.get(AUDIT_LOG.SCOPES),
                r.get(AUDIT_LOG.CORRELATION_ID), r.get(AUDIT_LOG.REQUEST_ID), r.get(AUDIT_LOG.SOURCE_IP),
                r.get(AUDIT_LOG.DETAILS), r.get(AUDIT_LOG.PREV_HASH), r.get(AUDIT_LOG.HASH));
    }
}
