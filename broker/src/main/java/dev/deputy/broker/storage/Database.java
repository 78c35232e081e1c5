package dev.deputy.broker.storage;

import dev.deputy.broker.support.PrivateFiles;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.deputy.broker.config.DeputySettings;
import dev.deputy.broker.health.DependencyCheck;
import dev.deputy.broker.health.ServiceUnavailableException;
import dev.deputy.broker.tracing.Traces;
import jakarta.annotation.PreDestroy;
import jakarta.inject.Singleton;
import org.flywaydb.core.Flyway;
import org.jooq.DSLContext;
import org.jooq.SQLDialect;
import org.jooq.conf.Settings;
import org.jooq.impl.DSL;
import org.jooq.impl.DefaultConfiguration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import static dev.deputy.broker.storage.jooq.Tables.SCHEMA_DIGESTS;

/**
 * The durable store: MySQL/MariaDB in production ({@code DEPUTY_MYSQL_URL}), H2 in MySQL mode under the
 * data dir as the embedded default. Schema by Flyway; queries by jOOQ (only inside this package).
 */
@Singleton
public class Database implements DependencyCheck {
    /**
     * Connector/J's properties on MySQL/MariaDB. Fail fast (connect 2 s, socket 10 s). One round trip per statement:
     * client-side prepared statements (jOOQ's multi-row audit insert changes shape with the batch size, so server-side
     * ones were prepared anew nearly every time), and the session state (autocommit, isolation) answered from the
     * driver's own record of it. The driver parses a client-side prepared statement's SQL on every prepare (5% of the
     * broker's CPU on the mTLS token path, JFR): the parsed form is kept per connection.
     */
    static final Map<String, String> MYSQL_DRIVER = orderedMap(
            "connectTimeout", "2000", "socketTimeout", "10000",
            "useServerPrepStmts", "false", "useLocalSessionState", "true", "rewriteBatchedStatements", "true",
            "cachePrepStmts", "true", "prepStmtCacheSize", "256", "prepStmtCacheSqlLimit", "4096");
    /**
     * The audit writer's pool, on top of {@link #MYSQL_DRIVER}: the audit batch's inserts and its COMMIT go in one
     * statement text (one round trip instead of three, {@link JooqAuditStore#insertCommitting}; only this pool's fixed
     * statement uses it, every value bound); commit() and rollback() ask the server's transaction flag (in every OK
     * packet) and send nothing when no transaction is open — after that text's own COMMIT, the commit() that tells the
     * pool the connection is clean costs no round trip; that statement's text grows with the batch (~60 characters a
     * row): its parsed form is kept up to 1,000 rows.
     */
    static final Map<String, String> MYSQL_BATCH_DRIVER = orderedMap(
            "allowMultiQueries", "true", "useLocalTransactionState", "true", "prepStmtCacheSqlLimit", "65536");

    private static Map<String, String> orderedMap(String... kv) {
        Map<String, String> m = new java.util.LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put(kv[i], kv[i + 1]);
        }
        return java.util.Collections.unmodifiableMap(m);
    }

    private static final Logger LOG = LoggerFactory.getLogger(Database.class);
    private static final Duration STARTUP_WAIT = Duration.ofSeconds(30);
    /** Embedded H2: TEXT (CLOB) values up to this many bytes are stored in the row, not in the LOB storage. */
    static final int INPLACE_LOB_BYTES = 16_384;
    /**
     * Embedded H2's page cache, in KiB (H2's default is 64 MiB per GiB of maximum heap: 12 MiB at -Xmx192m). Every
     * page the audit indexer writes enters this cache and stays until evicted: with 12 MiB that was seconds, long
     * enough for the serial collector to promote it, so the old generation filled with evicted pages at ~0.6 KB per
     * token request and needed a full collection every ~30 s under load. At 4 MiB the pages die young: peak RSS
     * 441 → 375 MiB and no full collection in the private_key_jwt bench, same CPU per request (docs/benchmarks.md,
     * session 9). At 1 MiB (session 13) the same again under AuthZEN load, where the indexer writes ~13,000 entries a
     * second: with 4 MiB a full collection every 30 s or so of load (p99.9 115–140 ms), with 1 MiB none, young pauses
     * 5.2 → 3.8–4.3 ms, the same or lower CPU per evaluation and per token. Reads of old audit pages (console
     * searches far back) go to the file (the OS's cache) more often.
     */
    static final int H2_CACHE_KB = 1024;
    /** MySQL/MariaDB server error codes that no amount of waiting fixes. */
    private static final int ER_ACCESS_DENIED = 1045;
    private static final int ER_DBACCESS_DENIED = 1044;
    private static final int ER_BAD_DB = 1049;
    private static final java.util.regex.Pattern DB_NAME = java.util.regex.Pattern.compile("[A-Za-z0-9_$-]{1,64}");

    private final HikariDataSource dataSource;
    /**
     * MySQL/MariaDB only: connections that stay in manual-commit mode, for {@link #commitBatch}. A jOOQ transaction
     * on the main pool switches autocommit off and on again around its work: two extra round trips for each
     * audit batch, whose statements are otherwise an insert or two and the commit.
     */
    private final HikariDataSource batchPool;
    private final DSLContext dsl;
    private final String backend;
    /** The transaction {@link #inTransaction} opened on this thread, joined by {@link #tx} and {@link #read}. */
    private final ThreadLocal<DSLContext> current = new ThreadLocal<>();

    private final Duration startupWait;

    public Database(DeputySettings settings) {
        this(settings, STARTUP_WAIT, Traces.OFF, H2_CACHE_KB);
    }

    /**
     * @param startupWait how long to wait for MySQL at start ({@code DEPUTY_STARTUP_WAIT}); the first failure is
     *                    reported at once, and failures that waiting cannot fix (unknown database that the user may
     *                    not create, access denied) end the start at once
     * @param traces      a span per SQL statement when tracing is on ({@link JooqTracing}); off, no listener
     * @param h2CacheKb   embedded H2 only: its page cache in KiB ({@code deputy.h2.cache-kb}, default
     *                    {@link #H2_CACHE_KB}); 0 leaves H2's own default (64 MiB per GiB of maximum heap)
     */
    @jakarta.inject.Inject
    public Database(DeputySettings settings,
                    @io.micronaut.context.annotation.Value("${deputy.startup-wait:30s}") Duration startupWait,
                    Traces traces,
                    @io.micronaut.context.annotation.Value("${deputy.h2.cache-kb:" + H2_CACHE_KB + "}") int h2CacheKb) {
        this.startupWait = startupWait;
        HikariConfig hc = new HikariConfig();
        hc.setPoolName("deputy-db");
        // Fail fast when the database is away: requests answer 503 instead of queueing.
        hc.setConnectionTimeout(2_000);
        hc.setValidationTimeout(1_000);
        hc.setInitializationFailTimeout(-1);
        hc.setMaximumPoolSize(16);
        SQLDialect dialect;
        HikariConfig batch = null;
        if (settings.mysql().isPresent()) {
            DeputySettings.MySql my = settings.mysql().get();
            hc.setJdbcUrl(my.url());
            hc.setUsername(my.user());
            hc.setPassword(my.password());
            MYSQL_DRIVER.forEach(hc::addDataSourceProperty);
            // literals in the identifiers' own collation (the database's, made binary no-pad by IdentifierCollation):
            // with the driver's default utf8mb4_general_ci, MariaDB cannot treat `tenant_id` as constant under
            // `WHERE tenant_id = '…'`, and every `ORDER BY tenant_id, seq` — the audit head, checkpoints, console
            // pages — became a filesort of the tenant's whole trail (1 s per head read at 500,000 entries)
            hc.setConnectionInitSql("SET collation_connection = @@collation_database");
            dialect = null; // decided from the server below
            HikariConfig bc = new HikariConfig();
            hc.copyStateTo(bc);
            bc.setPoolName("deputy-db-batch");
            bc.setMaximumPoolSize(2);
            bc.setMinimumIdle(0);
            bc.setAutoCommit(false);
            MYSQL_BATCH_DRIVER.forEach(bc::addDataSourceProperty);
            batch = bc;
        } else {
            try {
                PrivateFiles.directory(settings.dataDir()); // 0700: the database, keys and journal live here
            } catch (java.io.UncheckedIOException e) {
                throw new IllegalStateException("cannot create data dir " + settings.dataDir(), e);
            }
            // WRITE_DELAY=0: H2 otherwise buffers commits for 500 ms before writing them to the file, and a killed
            // process loses transactions that were already acknowledged (AuditCrashIT measured 66 of 634 acknowledged
            // admin sign-ins lost with the default). With 0, MVStore writes at every commit (no fsync: it survives a
            // process kill, not a power loss).
            // MAX_LENGTH_INPLACE_LOB: TEXT columns are CLOBs in H2's MySQL mode, and a value longer than H2's default
            // of 256 bytes went to the separate LOB storage (a temporary LOB, then its copy into four LOB maps, and a
            // stream to read it back). An audit entry's details are a few hundred bytes to a few KiB — a
            // policy.decision's are ~700 — so most entries paid that on insert and on every read-back (checkpoint
            // verification, the console); up to 16 KiB they now stay in the row.
            hc.setJdbcUrl("jdbc:h2:file:" + settings.dataDir().resolve("deputy")
                    + ";MODE=MySQL;DATABASE_TO_LOWER=TRUE;CASE_INSENSITIVE_IDENTIFIERS=TRUE;DB_CLOSE_ON_EXIT=FALSE"
                    + ";WRITE_DELAY=0;MAX_LENGTH_INPLACE_LOB=" + INPLACE_LOB_BYTES
                    + (h2CacheKb > 0 ? ";CACHE_SIZE=" + h2CacheKb : ""));
            hc.setUsername("sa");
            hc.setPassword("");
            dialect = SQLDialect.H2;
        }
        if (dialect == null) {
            // Connector/J negotiates TLS when the server offers it: the JVM's default TLS context (its CA set) is made
            // here, once, so that its one-off cost (~1 s of an interpreted start on a busy machine) does not count
            // against the first connection's 2 s timeout (nothing else makes it at start-up any more)
            try {
                javax.net.ssl.SSLContext.getDefault();
            } catch (java.security.NoSuchAlgorithmException e) {
                LOG.debug("no default TLS context: {}", e.getMessage());
            }
        }
        this.dataSource = new HikariDataSource(hc);
        this.batchPool = batch == null ? null : new HikariDataSource(batch);
        if (dialect == null) {
            dialect = detectMySqlDialect();
        } else {
            awaitEmbedded(settings);
        }
        this.backend = dialect == SQLDialect.H2 ? "h2" : dialect == SQLDialect.MARIADB ? "mariadb" : "mysql";
        migrate(dialect);
        if (batchPool != null) {
            // connections opened before the migration made the database's collation binary carry the old one
            dataSource.getHikariPoolMXBean().softEvictConnections();
            batchPool.getHikariPoolMXBean().softEvictConnections();
        }
        if (dialect == SQLDialect.H2) {
            // H2 creates its files with the process umask (often 0644): 0600, like everything in the data dir
            PrivateFiles.tighten(settings.dataDir());
        }
        org.jooq.Configuration config = new DefaultConfiguration().set(dataSource).set(dialect)
                .set(new Settings().withExecuteLogging(false));
        if (traces.on()) {
            config = config.set(new JooqTracing(traces.tracer(), backend));
        }
        this.dsl = DSL.using(config);
        LOG.info("durable store: {} (schema migrated)", backend);
    }

    /** Connector/J reports MariaDB as "5.5.5-…-MariaDB": the dialect is set explicitly from that. */
    private SQLDialect detectMySqlDialect() {
        long deadline = System.nanoTime() + startupWait.toNanos();
        String url = dataSource.getJdbcUrl();
        String user = dataSource.getUsername();
        String address = address(url);
        boolean reported = false;
        boolean created = false;
        while (true) {
            try (Connection c = dataSource.getConnection()) {
                String version = c.getMetaData().getDatabaseProductVersion();
                return version.toLowerCase().contains("mariadb") ? SQLDialect.MARIADB : SQLDialect.MYSQL;
            } catch (SQLException e) {
                SQLException server = serverError(e);
                int code = server == null ? 0 : server.getErrorCode();
                // an unprivileged user is told 1044 (access denied to the database) whether it exists or not
                if ((code == ER_BAD_DB || code == ER_DBACCESS_DENIED) && !created) {
                    createDatabase(url, user, dataSource.getPassword(), address, server);
                    created = true;
                    continue;
                }
                if (code == ER_ACCESS_DENIED || code == ER_DBACCESS_DENIED || code == ER_BAD_DB) {
                    dataSource.close();
                    throw new IllegalStateException("MySQL at " + address + " refused user '" + user + "': "
                            + server.getMessage() + " (check DEPUTY_MYSQL_URL, DEPUTY_MYSQL_USER and DEPUTY_MYSQL_PASSWORD)");
                }
                String cause = cause(e);
                if (System.nanoTime() >= deadline) {
                    dataSource.close();
                    throw new IllegalStateException("MySQL at " + address + " is not reachable"
                            + (startupWait.isZero() ? "" : " after " + startupWait.toSeconds() + " s") + ": " + cause);
                }
                if (!reported) {
                    LOG.warn("MySQL at {} is not reachable yet ({}); retrying for {} s", address, cause, startupWait.toSeconds());
                    reported = true;
                }
                sleep();
            }
        }
    }

    /**
     * The database named in the URL does not exist: create it when the user may (utf8mb4, the server's default
     * collation), else say exactly that and how to fix it.
     */
    private void createDatabase(String url, String user, String password, String address, SQLException unknown) {
        String name;
        String serverUrl;
        try {
            com.mysql.cj.conf.ConnectionUrl cu = com.mysql.cj.conf.ConnectionUrl.getConnectionUrlInstance(url, null);
            name = cu.getDatabase();
            int slash = url.indexOf('/', url.indexOf("//") + 2);
            int query = url.indexOf('?', Math.max(slash, 0));
            serverUrl = url.substring(0, slash + 1) + (query > 0 ? url.substring(query) : "");
        } catch (RuntimeException e) {
            throw new IllegalStateException("MySQL at " + address + ": " + unknown.getMessage());
        }
        if (name == null || !DB_NAME.matcher(name).matches()) {
            dataSource.close();
            throw new IllegalStateException("MySQL at " + address + " has no database '" + name + "' ("
                    + unknown.getMessage() + "), and Deputy creates only databases named with letters, digits, _, $ and -");
        }
        try (Connection c = java.sql.DriverManager.getConnection(serverUrl, user, password);
             java.sql.Statement st = c.createStatement()) {
            st.execute("CREATE DATABASE IF NOT EXISTS `" + name + "` CHARACTER SET utf8mb4");
            LOG.info("MySQL at {}: database '{}' did not exist; created it", address, name);
        } catch (SQLException e) {
            dataSource.close();
            SQLException server = serverError(e);
            throw new IllegalStateException("MySQL at " + address + " has no database '" + name + "' that user '" + user
                    + "' may use, and the user may not create it (" + (server != null ? server.getMessage() : cause(e))
                    + "): create it with CREATE DATABASE `" + name + "` CHARACTER SET utf8mb4 and grant it to '" + user
                    + "', or correct DEPUTY_MYSQL_URL");
        }
    }

    /**
     * The embedded H2 database opens its file on the first connection; on a loaded machine that can take longer than
     * the pool's 2 s (which exists to fail fast when MySQL is away), and a start failed with "Connection is not
     * available" while benchmarks ran beside it. Wait for it like for MySQL.
     */
    private void awaitEmbedded(DeputySettings settings) {
        long deadline = System.nanoTime() + Math.max(startupWait.toNanos(), Duration.ofSeconds(30).toNanos());
        while (true) {
            try (Connection c = dataSource.getConnection()) {
                return;
            } catch (SQLException e) {
                if (!(e instanceof java.sql.SQLTransientConnectionException) || System.nanoTime() >= deadline) {
                    dataSource.close();
                    throw new IllegalStateException("cannot open the embedded database in " + settings.dataDir() + ": "
                            + cause(e));
                }
                LOG.warn("the embedded database in {} is slow to open ({}); still waiting", settings.dataDir(), cause(e));
            }
        }
    }

    /** host:port of a jdbc:mysql URL (never its credentials). */
    static String address(String url) {
        try {
            var host = com.mysql.cj.conf.ConnectionUrl.getConnectionUrlInstance(url, null).getMainHost();
            return host.getHost() + ":" + host.getPort();
        } catch (RuntimeException e) {
            return "(unparseable URL)";
        }
    }

    /** The server's own error in a chain (Hikari wraps the driver's), if the server answered at all. */
    private static SQLException serverError(Throwable e) {
        SQLException found = null; // the innermost: Hikari copies the driver's error code onto its own wrapper
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof SQLException se && se.getErrorCode() > 0) {
                found = se;
            }
        }
        return found;
    }

    /** The innermost cause's message, e.g. "Connection refused" (Connector/J's own text is several lines long). */
    static String cause(Throwable e) {
        Throwable c = e;
        while (c.getCause() != null && c.getCause() != c) {
            c = c.getCause();
        }
        String m = c.getMessage();
        return m == null || m.isBlank() ? c.getClass().getSimpleName() : m.lines().findFirst().orElse(m);
    }

    /**
     * Flyway, unless the schema is recorded at exactly this build's migration set ({@link MigrationSet}): then there
     * is nothing to apply, and the class path scan and validation (~10% of a start's main thread) are skipped. After
     * a run that applied everything the digest is recorded (once per set, whichever node gets there first).
     */
    private void migrate(SQLDialect dialect) {
        List<org.flywaydb.core.api.migration.JavaMigration> java = List.of(new IdentifierCollation());
        DSLContext db = DSL.using(dataSource, dialect, new Settings().withExecuteLogging(false));
        String digest;
        try {
            digest = MigrationSet.digest(Database.class.getClassLoader(), java);
        } catch (IOException | RuntimeException e) {
            LOG.debug("no digest of the migration set ({}): Flyway decides", e.toString());
            digest = null;
        }
        if (digest != null && recorded(db, digest)) {
            LOG.debug("schema at migration set {}: nothing to migrate", digest);
            return;
        }
        var result = Flyway.configure()
                .dataSource(dataSource)
                .locations("classpath:db/migration")
                .javaMigrations(java.toArray(org.flywaydb.core.api.migration.JavaMigration[]::new))
                .validateMigrationNaming(true)
                .load()
                .migrate();
        if (digest != null && result.success) {
            db.insertInto(SCHEMA_DIGESTS, SCHEMA_DIGESTS.DIGEST, SCHEMA_DIGESTS.RECORDED_AT)
                    .values(digest, System.currentTimeMillis())
                    .onDuplicateKeyIgnore()
                    .execute();
        }
    }

    private static boolean recorded(DSLContext db, String digest) {
        try {
            return db.fetchExists(SCHEMA_DIGESTS, SCHEMA_DIGESTS.DIGEST.eq(digest));
        } catch (org.jooq.exception.DataAccessException e) {
            // a schema from before V230 (or an empty database): Flyway decides
            return false;
        }
    }

    private static void sleep() {
        try {
            Thread.sleep(1_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the database", e);
        }
    }

    public DSLContext dsl() {
        return dsl;
    }

    /**
     * Runs work in one transaction. A lost connection surfaces as {@link ServiceUnavailableException}
     * (503) and the transaction is rolled back: nothing is written half-way. Inside {@link #inTransaction} on the
     * same thread, work joins the enclosing transaction (it commits or rolls back with it).
     */
    public <T> T tx(Function<DSLContext, T> work) {
        DSLContext joined = current.get();
        if (joined != null) {
            return work.apply(joined);
        }
        try {
            return dsl.transactionResult(cfg -> work.apply(DSL.using(cfg)));
        } catch (org.jooq.exception.DataAccessException e) {
            throw translate(e);
        }
    }

    /**
     * Like {@link #tx} for a writer that commits often (the audit writer): on MySQL/MariaDB the work runs on a
     * connection that is already in manual-commit mode, so a batch costs its statements and the commit only.
     * Joins the thread's {@link #inTransaction} if there is one.
     */
    public <T> T commitBatch(Function<DSLContext, T> work) {
        if (batchPool == null || current.get() != null) {
            return tx(work);
        }
        try (Connection c = batchPool.getConnection()) {
            try {
                T result = work.apply(DSL.using(c, dsl.dialect(), dsl.settings()));
                c.commit();
                return result;
            } catch (RuntimeException | SQLException e) {
                // a JDBC batch on a connection that died can surface as "statement closed" (the driver's cleanup
                // fails after the real error): a connection that cannot roll back is lost, not a bug of ours
                if (!rollBack(c)) {
                    throw new ServiceUnavailableException("database", e);
                }
                throw e;
            }
        } catch (org.jooq.exception.DataAccessException e) {
            throw translate(e);
        } catch (SQLException e) {
            throw translate(new org.jooq.exception.DataAccessException("audit batch: " + e.getMessage(), e));
        }
    }

    /** The work of {@link #commitInline}: statements on a manual-commit connection, ending with their own COMMIT. */
    @FunctionalInterface
    public interface InlineCommit {
        void run(Connection c) throws SQLException;
    }

    /**
     * MySQL/MariaDB only ({@link #hasBatchPool}): runs {@code work} on a batch-pool connection (manual-commit mode,
     * multi-statement texts allowed), where the work sends its statements and its {@code COMMIT} together, in one
     * round trip. When the work throws, the transaction is rolled back (a statement that failed stopped the text
     * there: the COMMIT after it never ran). A lost connection is a 503, as for {@link #commitBatch}.
     */
    public void commitInline(InlineCommit work) {
        if (batchPool == null) {
            throw new IllegalStateException("commitInline needs MySQL/MariaDB");
        }
        try (Connection c = batchPool.getConnection()) {
            try {
                work.run(c);
                c.commit(); // nothing sent: the work's own COMMIT ended the transaction (useLocalTransactionState)
            } catch (RuntimeException | SQLException e) {
                if (!rollBack(c)) {
                    throw new ServiceUnavailableException("database", e);
                }
                throw e;
            }
        } catch (SQLException e) {
            throw translate(new org.jooq.exception.DataAccessException("audit batch: " + e.getMessage(), e));
        }
    }

    /**
     * True on MySQL/MariaDB outside a {@link #inTransaction} of this thread: {@link #commitInline} may be used (inside
     * one, writes must join the caller's transaction instead).
     */
    public boolean hasBatchPool() {
        return batchPool != null && current.get() == null;
    }

    /**
     * Ends a failed batch's transaction on a batch-pool connection with a ROLLBACK statement, always sent: the driver's
     * record of the server's transaction flag (useLocalTransactionState) is not trusted after an error — with it,
     * {@code Connection.rollback()} sent nothing after a multi-statement text failed half-way, and the connection went
     * back to the pool with the first insert's rows uncommitted and locked (the next batch's COMMIT would have committed
     * them). A connection that cannot roll back is evicted from the pool; returns false then.
     */
    private boolean rollBack(Connection c) {
        try (java.sql.Statement st = c.createStatement()) {
            st.execute("ROLLBACK");
            return true;
        } catch (SQLException | RuntimeException ex) {
            batchPool.evictConnection(c);
            return false;
        }
    }

    /**
     * Runs work in one transaction that every {@link #tx} and {@link #read} of this thread joins until it ends:
     * the stores' own writes (an agent's status, a consent, a refresh token) and the audit entries written by
     * {@code AuditedTransactions} commit together or not at all. Not reentrant (a nested call joins too).
     */
    public <T> T inTransaction(Function<DSLContext, T> work) {
        if (current.get() != null) {
            return work.apply(current.get());
        }
        try {
            return dsl.transactionResult(cfg -> {
                DSLContext tx = DSL.using(cfg);
                current.set(tx);
                try {
                    return work.apply(tx);
                } finally {
                    current.remove();
                }
            });
        } catch (org.jooq.exception.DataAccessException e) {
            throw translate(e);
        }
    }

    /** Runs a query (inside the thread's {@link #inTransaction}, if any); a lost connection is a 503. */
    public <T> T read(Function<DSLContext, T> work) {
        DSLContext joined = current.get();
        try {
            return work.apply(joined != null ? joined : dsl);
        } catch (org.jooq.exception.DataAccessException e) {
            throw translate(e);
        }
    }

    /** Connection-level failures become 503; anything else (a constraint, a bug) is rethrown as is. */
    public RuntimeException translate(org.jooq.exception.DataAccessException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof java.sql.SQLTransientConnectionException
                    || t instanceof java.sql.SQLNonTransientConnectionException
                    || t instanceof java.net.ConnectException
                    || t instanceof java.net.SocketException
                    || (t instanceof SQLException se && se.getSQLState() != null && se.getSQLState().startsWith("08"))) {
                return new ServiceUnavailableException("database", e);
            }
        }
        return e;
    }

    public String dialectName() {
        return backend;
    }

    @Override
    public String name() {
        return "database";
    }

    @Override
    public String backend() {
        return backend;
    }

    @Override
    public boolean up() {
        try (Connection c = dataSource.getConnection()) {
            return c.isValid(1);
        } catch (SQLException e) {
            return false;
        }
    }

    /**
     * Publishes both connection pools to Micrometer ({@code hikaricp_connections_*{pool="deputy-db"}} and, on
     * MySQL, {@code pool="deputy-db-batch"}). Once per pool: Hikari refuses a second tracker.
     */
    public void bindMetrics(io.micrometer.core.instrument.MeterRegistry registry) {
        var factory = new com.zaxxer.hikari.metrics.micrometer.MicrometerMetricsTrackerFactory(registry);
        dataSource.setMetricsTrackerFactory(factory);
        if (batchPool != null) {
            batchPool.setMetricsTrackerFactory(factory);
        }
    }

    @PreDestroy
    void close() {
        if (batchPool != null) {
            batchPool.close();
        }
        dataSource.close();
    }
}
