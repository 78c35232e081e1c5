package dev.deputy.broker.storage;

import dev.deputy.broker.audit.AuditStore;
import dev.deputy.broker.config.DeputySettings;
import dev.deputy.broker.keys.SigningKeyStore;
import dev.deputy.broker.tenant.TenantStore;
import dev.deputy.broker.testing.MariaDbDatabase;

import java.nio.file.Path;
import java.util.Optional;

/**
 * A migrated durable store for contract tests, without a Micronaut context: H2 under a temp dir (the
 * embedded default) or a database of its own on the test MariaDB. Also hands out the jOOQ stores,
 * which are package-private.
 */
public final class StorageBackend implements AutoCloseable {
    private final Database database;
    private final MariaDbDatabase mariaDb;
    /** The one journaled audit store of {@link #h2Journaled} (null: each {@link #audit()} writes through). */
    private JooqAuditStore journaled;
    /** A fixed test master key for row MACs, and an alarm that records instead of auditing. */
    public static final byte[] TEST_MASTER_KEY = new byte[32];
    private final java.util.List<dev.deputy.broker.audit.AuditEvent> alarms = new java.util.concurrent.CopyOnWriteArrayList<>();
    private dev.deputy.broker.audit.AuditLog auditLog;
    private final dev.deputy.broker.keys.IntegrityAlarm alarm = new dev.deputy.broker.keys.IntegrityAlarm(e -> {
        alarms.add(e);
        auditLog().append(e); // into the real chain, as the broker does
    });
    private SealedRows sealed;

    private StorageBackend(Database database, MariaDbDatabase mariaDb) {
        this.database = database;
        this.mariaDb = mariaDb;
    }

    /** H2 with the broker's audit journal (under dataDir/audit-journal), as the embedded default runs it. */
    public static StorageBackend h2Journaled(Path dataDir, AuditJournal.Limits limits) {
        StorageBackend b = h2(dataDir);
        b.journaled = new JooqAuditStore(b.database, dataDir.resolve("audit-journal"), false, limits);
        return b;
    }

    public static StorageBackend h2(Path dataDir) {
        return new StorageBackend(new Database(new DeputySettings(dataDir, dataDir, Optional.empty(), Optional.empty(),
                Optional.empty(), Optional.empty())), null);
    }

    public static StorageBackend mariaDb(Path dataDir) {
        MariaDbDatabase db = MariaDbDatabase.create();
        try {
            return new StorageBackend(new Database(new DeputySettings(dataDir, dataDir, Optional.empty(), Optional.empty(),
                    Optional.of(new DeputySettings.MySql(db.jdbcUrl(), db.user(), db.password())), Optional.empty())), db);
        } catch (RuntimeException e) {
            db.close();
            throw e;
        }
    }

    /** A database of its own on the test MariaDB that already exists (e.g. migrated to an older version by the test). */
    public static StorageBackend mariaDb(Path dataDir, MariaDbDatabase db) {
        try {
            return new StorageBackend(new Database(new DeputySettings(dataDir, dataDir, Optional.empty(), Optional.empty(),
                    Optional.of(new DeputySettings.MySql(db.jdbcUrl(), db.user(), db.password())), Optional.empty())), db);
        } catch (RuntimeException e) {
            db.close();
            throw e;
        }
    }

    /**
     * An existing MySQL/MariaDB database (a bench's, e.g. {@code scripts/bench console}), migrated on opening, with the
     * broker's master key: rows written through it carry the MACs the broker checks. Closing closes the pool only.
     */
    public static StorageBackend existing(DeputySettings.MySql my, Path dataDir, byte[] masterKey) {
        StorageBackend b = new StorageBackend(new Database(new DeputySettings(dataDir, dataDir, Optional.empty(),
                Optional.empty(), Optional.of(my), Optional.empty())), null);
        b.masterKey = masterKey.clone();
        return b;
    }

    /**
     * Bulk load of agents (benches): the rows {@link JooqAgentStore#saveAgent} writes, with their MACs, in multi-row
     * inserts of 500 — one statement per 500 agents instead of a transaction per agent.
     */
    public void insertAgents(java.util.List<dev.deputy.broker.agent.Agent> agents) {
        SealedRows s = sealed();
        for (int from = 0; from < agents.size(); from += 500) {
            java.util.List<dev.deputy.broker.agent.Agent> chunk = agents.subList(from, Math.min(agents.size(), from + 500));
            database.tx(dsl -> {
                org.jooq.InsertSetStep<?> insert = dsl.insertInto(dev.deputy.broker.storage.jooq.Tables.AGENTS);
                org.jooq.InsertSetMoreStep<?> rows = null;
                for (dev.deputy.broker.agent.Agent a : chunk) {
                    java.util.Map<org.jooq.Field<?>, Object> row = JooqAgentStore.row(a);
                    String mac = s.mac(SealedRows.AGENT, row);
                    row.put(dev.deputy.broker.storage.jooq.Tables.AGENTS.CREATED_AT, a.createdAt());
                    row.put(dev.deputy.broker.storage.jooq.Tables.AGENTS.LAST_SEEN_AT, a.lastSeenAt());
                    row.put(dev.deputy.broker.storage.jooq.Tables.AGENTS.ROW_MAC, mac);
                    rows = rows == null ? insert.set(row) : rows.newRecord().set(row);
                }
                return rows.execute();
            });
        }
    }

    public Database database() {
        return database;
    }

    public synchronized SealedRows sealed() {
        if (sealed == null) {
            sealed = new SealedRows(database, new dev.deputy.broker.keys.RowSeal(masterKey), alarm);
        }
        return sealed;
    }

    synchronized dev.deputy.broker.audit.AuditLog auditLog() {
        if (auditLog == null) {
            auditLog = new dev.deputy.broker.audit.AuditLog(audit());
        }
        return auditLog;
    }

    /**
     * This database as a new broker process sees it: a fresh {@link SealedRows} (adoption checked again) and a fresh
     * alarm (nothing reported yet). Closing the view closes nothing.
     */
    public StorageBackend freshProcess() {
        return freshProcess(TEST_MASTER_KEY);
    }

    /** {@link #freshProcess()} with another master key (a misconfigured node). */
    public StorageBackend freshProcess(byte[] masterKey) {
        StorageBackend b = new StorageBackend(database, null);
        b.masterKey = masterKey;
        b.journaled = journaled;
        b.view = true;
        return b;
    }

    private boolean view;
    private byte[] masterKey = TEST_MASTER_KEY;

    public dev.deputy.broker.keys.IntegrityAlarm alarm() {
        return alarm;
    }

    /** The audit events the alarm sent (it sends on a thread of its own: poll). */
    public java.util.List<dev.deputy.broker.audit.AuditEvent> alarms() {
        return alarms;
    }

    public SigningKeyStore signingKeys() {
        return new JooqSigningKeyStore(database, sealed());
    }

    public dev.deputy.broker.agent.AgentStore agents() {
        return new JooqAgentStore(database, sealed());
    }

    public dev.deputy.broker.agent.ClientStore clients() {
        return new JooqFederationStores.Clients(database, sealed());
    }

    public dev.deputy.broker.federation.ConnectorStore connectors() {
        return new JooqFederationStores.Connectors(database, sealed());
    }

    public dev.deputy.broker.grant.refresh.RefreshTokenStore refreshTokens() {
        return new JooqFederationStores.RefreshTokens(database, sealed());
    }

    public dev.deputy.broker.federation.UserStore users() {
        return new JooqFederationStores.Users(database, sealed());
    }

    public dev.deputy.broker.authorize.ConsentStore consents() {
        return new JooqFederationStores.Consents(database, sealed());
    }

    public dev.deputy.broker.admin.AdminCredentialStore adminCredentials() {
        return new JooqAdminCredentialStore(database, sealed());
    }

    public dev.deputy.broker.pki.AgentCaStore agentCas() {
        return new JooqAgentCaStore(database, sealed());
    }

    public dev.deputy.broker.registration.RegistrationStore registrations() {
        return new JooqRegistrationStore(database, sealed());
    }

    public AuditStore audit() {
        return journaled != null ? journaled : new JooqAuditStore(database);
    }

    public TenantStore tenants() {
        return new JooqTenantStore(database);
    }

    @Override
    public void close() {
        if (view) {
            return;
        }
        try {
            if (journaled != null) {
                journaled.close();
            }
            database.close();
        } finally {
            if (mariaDb != null) {
                mariaDb.close();
            }
        }
    }
}
