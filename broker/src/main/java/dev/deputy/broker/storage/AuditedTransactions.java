package dev.deputy.broker.storage;

import dev.deputy.broker.audit.AuditEntry;
import dev.deputy.broker.audit.AuditEvent;
import dev.deputy.broker.audit.AuditLog;
import jakarta.inject.Singleton;
import org.jooq.DSLContext;

import java.util.List;
import java.util.function.BiFunction;

/**
 * A state change and its audit entries in one database transaction: both commit or neither does, and the
 * chain head does not move on rollback. For storage classes that own a state change:
 * <pre>{@code
 * audited.tx(tenant, (dsl, audit) -> {
 *     dsl.update(AGENTS).set(...).execute();
 *     audit.append(AuditEvent.of(tenant, EventTypes.AGENT_SUSPENDED, SUCCESS).agent(id).build());
 *     return null;
 * });
 * }</pre>
 * The tenant's chain is held for the duration of the transaction (other appends of that tenant wait), so keep
 * the body short. A sequence conflict with another node re-runs the body in a fresh transaction.
 */
@Singleton
public class AuditedTransactions {
    private final Database db;
    private final AuditLog log;

    public AuditedTransactions(Database db, AuditLog log) {
        this.db = db;
        this.log = log;
    }

    /** Appends events inside the current transaction. */
    public interface TxAudit {
        AuditEntry append(AuditEvent event);
    }

    public <T> T tx(String tenantId, BiFunction<DSLContext, TxAudit, T> work) {
        return log.appendInTransaction(tenantId, sealer -> db.tx(dsl -> work.apply(dsl, event -> {
            AuditEntry e = sealer.seal(event);
            // written at once, so a conflict surfaces inside this transaction and rolls it back
            JooqAuditStore.insert(dsl, List.of(e));
            return e;
        })));
    }
}
