package dev.deputy.broker.storage;

import dev.deputy.broker.audit.AuditEntry;
import dev.deputy.broker.audit.AuditLog;
import dev.deputy.broker.audit.AuditTransactions;
import jakarta.inject.Singleton;
import org.jooq.DSLContext;

import java.util.List;
import java.util.function.BiFunction;
import java.util.function.Function;

/**
 * A state change and its audit entries in one database transaction: both commit or neither does, and the
 * chain head does not move on rollback. Domain code uses the {@link AuditTransactions} port:
 * <pre>{@code
 * audited.run(tenant, audit -> {
 *     store.saveAgent(after);      // the store's own db.tx joins this transaction (same thread)
 *     audit.append(AuditEvent.of(tenant, EventTypes.AGENT_SUSPENDED, SUCCESS).agent(id).build());
 *     return after;
 * });
 * }</pre>
 * The tenant's chain is held for the duration of the transaction (other appends of that tenant wait), so keep
 * the body short. A sequence conflict with another node re-runs the body in a fresh transaction.
 */
@Singleton
public class AuditedTransactions implements AuditTransactions {
    private final Database db;
    private final AuditLog log;

    public AuditedTransactions(Database db, AuditLog log) {
        this.db = db;
        this.log = log;
    }

    @Override
    public <T> T run(String tenantId, Function<Appender, T> change) {
        return tx(tenantId, (dsl, audit) -> change.apply(audit::append));
    }

    /** Appends events inside the current transaction. */
    public interface TxAudit {
        AuditEntry append(dev.deputy.broker.audit.AuditEvent event);
    }

    /** The same with the transaction's jOOQ context, for storage code that writes its change itself. */
    public <T> T tx(String tenantId, BiFunction<DSLContext, TxAudit, T> work) {
        return log.appendInTransaction(tenantId, sealer -> db.inTransaction(dsl -> work.apply(dsl, event -> {
            AuditEntry e = sealer.seal(event);
            // written at once, so a conflict surfaces inside this transaction and rolls it back
            JooqAuditStore.insert(dsl, List.of(e));
            return e;
        })));
    }
}
