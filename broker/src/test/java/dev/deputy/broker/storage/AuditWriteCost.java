package dev.deputy.broker.storage;

import dev.deputy.broker.audit.AuditEntry;
import dev.deputy.broker.audit.AuditEvent;
import dev.deputy.broker.audit.AuditSeal;
import dev.deputy.broker.audit.RequestMeta;
import dev.deputy.broker.config.DeputySettings;
import org.jooq.SQLDialect;
import org.jooq.impl.DSL;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.UUID;

/**
 * Issue 16: what one audit batch of token entries costs on MySQL/MariaDB, in CPU — the writing thread's (the broker's
 * audit writer: {@code ThreadMXBean} CPU time and bytes allocated) and the server thread's that serves the connection
 * (MariaDB runs a thread per connection; its on-CPU nanoseconds from {@code /proc/<mariadbd>/task/<TID>/schedstat},
 * TID from {@code information_schema.PROCESSLIST}). CPU time, not wall time: figures that hold on a shared machine.
 * The server's background threads (redo log flush, purge) are not in it; the whole process's CPU is printed beside
 * (other clients of the server count there too).
 *
 * <p>Ways compared, in rounds that alternate them (table growth and machine load hit each alike):
 * <ul>
 *   <li>{@code jdbc-batch}: the broker's way until session 9 — client-side prepared JDBC batches rewritten to a multi-row
 *       insert per table, then {@code commit()}: three round trips;</li>
 *   <li>{@code jdbc-batch+server-prep}: the same with {@code useServerPrepStmts=true} (binary protocol, no escaping,
 *       the multi-row statements prepared once per batch size and cached);</li>
 *   <li>{@code inline-commit}: {@link JooqAuditStore#insertCommitting}, both inserts and the COMMIT in one text: one
 *       round trip.</li>
 * </ul>
 * Usage: {@code AuditWriteCost JDBC_URL [BATCH_SIZES (8,1,32)] [BATCHES per round (400)] [ROUNDS (5)]}; the database is
 * migrated first and gets 50,000 entries of base (the indexes are trees of some depth). With
 * {@code AUDIT_COST_DRIVER="name=value,…"} the rounds compare {@code inline-commit} with itself under those Connector/J
 * properties on top (the A/B of a driver setting, session 11), and nothing else.
 */
public final class AuditWriteCost {
    private AuditWriteCost() {
    }

    interface Way {
        void write(Connection c, List<AuditEntry> batch) throws SQLException;
    }

    record Variant(String name, Properties props, Way way) {
    }

    static final class Totals {
        long clientNs;
        long serverNs;
        long allocated;
        long wallNs;
        long entries;
        long batches;
    }

    public static void main(String[] args) throws Exception {
        String url = args[0];
        int[] sizes = java.util.Arrays.stream((args.length > 1 ? args[1] : "8,1,32").split(",")).mapToInt(Integer::parseInt).toArray();
        int batches = args.length > 2 ? Integer.parseInt(args[2]) : 400;
        int rounds = args.length > 3 ? Integer.parseInt(args[3]) : 5;
        String user = System.getenv().getOrDefault("DEPUTY_MYSQL_USER", "root");
        String password = System.getenv().getOrDefault("DEPUTY_MYSQL_PASSWORD", "");
        Path dir = Files.createTempDirectory("deputy-audit-write-cost");
        // migrate (and create the database when the user may)
        new Database(new DeputySettings(dir, dir, Optional.empty(), Optional.empty(),
                Optional.of(new DeputySettings.MySql(url, user, password)), Optional.empty())).close();

        // the broker's own driver properties (Database), so the bench measures what the broker runs
        Properties base = new Properties();
        base.setProperty("user", user);
        base.setProperty("password", password);
        base.putAll(Database.MYSQL_DRIVER);
        Properties serverPrep = (Properties) base.clone();
        serverPrep.setProperty("useServerPrepStmts", "true");
        Properties inline = (Properties) base.clone();
        inline.putAll(Database.MYSQL_BATCH_DRIVER);
        Way jdbcBatch = (c, b) -> {
            JooqAuditStore.insert(DSL.using(c, SQLDialect.MARIADB), b);
            c.commit();
        };
        List<Variant> variants = new ArrayList<>(List.of(
                new Variant("jdbc-batch", base, jdbcBatch),
                new Variant("jdbc-batch+server-prep", serverPrep, jdbcBatch),
                new Variant("inline-commit", inline, JooqAuditStore::insertCommitting)));
        // AUDIT_COST_DRIVER="k=v,k=v": the one-text batch once more with these driver properties on top (A/B of a setting)
        String extra = System.getenv("AUDIT_COST_DRIVER");
        if (extra != null && !extra.isBlank()) {
            Properties p = (Properties) inline.clone();
            for (String kv : extra.split(",")) {
                p.setProperty(kv.substring(0, kv.indexOf('=')).trim(), kv.substring(kv.indexOf('=') + 1).trim());
            }
            variants.add(new Variant("inline-commit+" + extra, p, JooqAuditStore::insertCommitting));
            variants.subList(0, 2).clear(); // the one-text way against itself with the setting, nothing else
        }

        Chain chain = new Chain("bench");
        int pid = mariadbdPid();
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        Map<String, Connection> conns = new LinkedHashMap<>();
        Map<String, Long> tids = new LinkedHashMap<>();
        for (Variant v : variants) {
            Connection c = DriverManager.getConnection(url, v.props());
            try (var st = c.createStatement()) {
                st.execute("SET collation_connection = @@collation_database");
            }
            c.setAutoCommit(false);
            conns.put(v.name(), c);
            tids.put(v.name(), tid(c));
        }
        // base: 50,000 entries
        Connection first = conns.values().iterator().next();
        for (int i = 0; i < 50; i++) {
            jdbcBatch.write(first, chain.next(1000));
        }
        System.out.printf("# AuditWriteCost: MariaDB/MySQL %s, %d rounds x %d batches per way and size, load average %s%n",
                version(first), rounds, batches, load());
        for (int size : sizes) {
            Map<String, Totals> totals = new LinkedHashMap<>();
            long p0 = processNs(pid);
            for (int r = 0; r < rounds; r++) {
                for (int k = 0; k < variants.size(); k++) {
                    // rotate the order each round
                    Variant v = variants.get((k + r) % variants.size());
                    Connection c = conns.get(v.name());
                    List<List<AuditEntry>> work = new ArrayList<>(batches);
                    for (int b = 0; b < batches / 10 + batches; b++) {
                        work.add(chain.next(size));
                    }
                    // warm-up (the JIT, the statement caches), not counted
                    for (int b = 0; b < batches / 10; b++) {
                        v.way().write(c, work.get(b));
                    }
                    long s0 = serverNs(pid, tids.get(v.name()));
                    long c0 = threads.getCurrentThreadCpuTime();
                    long a0 = threads.getCurrentThreadAllocatedBytes();
                    long w0 = System.nanoTime();
                    for (int b = batches / 10; b < work.size(); b++) {
                        v.way().write(c, work.get(b));
                    }
                    Totals t = totals.computeIfAbsent(v.name(), x -> new Totals());
                    t.wallNs += System.nanoTime() - w0;
                    t.clientNs += threads.getCurrentThreadCpuTime() - c0;
                    t.allocated += threads.getCurrentThreadAllocatedBytes() - a0;
                    t.serverNs += serverNs(pid, tids.get(v.name())) - s0;
                    t.entries += (long) batches * size;
                    t.batches += batches;
                }
            }
            long p1 = processNs(pid);
            System.out.printf("batches of %d entries (mariadbd process, all clients: %.1f s CPU over these rounds)%n", size, (p1 - p0) / 1e9);
            System.out.printf("  %-40s %14s %14s %14s %14s %12s%n", "way", "writer µs/ent", "server µs/ent",
                    "sum µs/ent", "alloc B/ent", "wall ms/bat");
            for (var e : totals.entrySet()) {
                Totals t = e.getValue();
                System.out.printf("  %-40s %14.1f %14.1f %14.1f %14d %12.3f%n", e.getKey(), t.clientNs / 1e3 / t.entries,
                        t.serverNs / 1e3 / t.entries, (t.clientNs + t.serverNs) / 1e3 / t.entries, t.allocated / t.entries,
                        t.wallNs / 1e6 / t.batches);
            }
        }
        if (System.getenv("AUDIT_COST_INDEXES") != null) {
            indexes(url, user, password, conns.get("inline-commit"), tids.get("inline-commit"), pid, chain, sizes[0], batches, rounds);
        }
        for (Connection c : conns.values()) {
            c.close();
        }
    }

    /**
     * What the secondary indexes of audit_log and audit_agents cost the server per entry: the one-text batch with all
     * of them, then without any (dropped, then rebuilt from their definitions), alternating.
     */
    static void indexes(String url, String user, String password, Connection c, long tid, int pid, Chain chain, int size,
                        int batches, int rounds) throws Exception {
        List<String[]> defs = new ArrayList<>(); // name, table, columns
        try (Connection a = DriverManager.getConnection(url, user, password);
             PreparedStatement ps = a.prepareStatement("SELECT INDEX_NAME, TABLE_NAME, GROUP_CONCAT(COLUMN_NAME ORDER BY SEQ_IN_INDEX)"
                     + " FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN ('audit_log', 'audit_agents')"
                     + " AND INDEX_NAME <> 'PRIMARY' GROUP BY INDEX_NAME, TABLE_NAME");
             ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                defs.add(new String[]{rs.getString(1), rs.getString(2), rs.getString(3)});
            }
        }
        long[] ns = new long[2];
        long n = 0;
        for (int r = 0; r < rounds; r++) {
            for (int without = 0; without < 2; without++) {
                try (Connection a = DriverManager.getConnection(url, user, password); var st = a.createStatement()) {
                    for (String[] d : defs) {
                        st.execute(without == 1 ? "DROP INDEX " + d[0] + " ON " + d[1]
                                : "CREATE INDEX IF NOT EXISTS " + d[0] + " ON " + d[1] + " (" + d[2] + ")");
                    }
                }
                List<List<AuditEntry>> work = new ArrayList<>();
                for (int b = 0; b < batches; b++) {
                    work.add(chain.next(size));
                }
                long s0 = serverNs(pid, tid);
                for (List<AuditEntry> b : work) {
                    JooqAuditStore.insertCommitting(c, b);
                }
                ns[without] += serverNs(pid, tid) - s0;
            }
            n += (long) batches * size;
        }
        try (Connection a = DriverManager.getConnection(url, user, password); var st = a.createStatement()) {
            for (String[] d : defs) {
                st.execute("CREATE INDEX IF NOT EXISTS " + d[0] + " ON " + d[1] + " (" + d[2] + ")");
            }
        }
        System.out.printf("secondary indexes (%d: %s), batches of %d, one-text batch: server thread %.1f µs per entry with them,"
                + " %.1f µs without%n", defs.size(), defs.stream().map(d -> d[1] + "." + d[0]).toList(), size, ns[0] / 1e3 / n, ns[1] / 1e3 / n);
    }

    /** A tenant's chain of token.issued entries shaped like the private_key_jwt bench's. */
    static final class Chain {
        final String tenant;
        long seq;
        String prev = AuditEntry.GENESIS;
        int n;

        Chain(String tenant) {
            this.tenant = tenant;
        }

        List<AuditEntry> next(int size) {
            List<AuditEntry> out = new ArrayList<>(size);
            long now = System.currentTimeMillis();
            for (int i = 0; i < size; i++) {
                String agent = "agt_01JF" + String.format("%018d", (n++ % 50));
                AuditEvent ev = AuditEvent.of(tenant, "token.issued", AuditEvent.Outcome.SUCCESS).subject(agent, null)
                        .agent(agent).client(agent).resource("https://files.example.com/mcp").scopes("files:read")
                        .request(new RequestMeta(UUID.randomUUID().toString(), UUID.randomUUID().toString(), "127.0.0.1"))
                        .detail("grant_type", "client_credentials").detail("jti", UUID.randomUUID().toString())
                        .detail("auth_method", "private_key_jwt").detail("cert_bound", false).detail("exp", now / 1000 + 300)
                        .build();
                AuditEntry e = AuditSeal.seal(ev, ++seq, now, prev);
                prev = e.hash();
                out.add(e);
            }
            return out;
        }
    }

    static long tid(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT TID FROM information_schema.PROCESSLIST WHERE ID = CONNECTION_ID()");
             ResultSet rs = ps.executeQuery()) {
            rs.next();
            return rs.getLong(1);
        }
    }

    static String version(Connection c) throws SQLException {
        try (var st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT VERSION()")) {
            rs.next();
            return rs.getString(1);
        }
    }

    static int mariadbdPid() throws Exception {
        for (String name : List.of("mariadbd", "mysqld")) {
            Process p = new ProcessBuilder("pidof", "-s", name).start();
            String out = new String(p.getInputStream().readAllBytes()).trim();
            if (p.waitFor() == 0 && !out.isEmpty()) {
                return Integer.parseInt(out);
            }
        }
        throw new IllegalStateException("no mariadbd/mysqld process on this machine (the server must be local)");
    }

    /** On-CPU nanoseconds of one server thread (the first field of schedstat). */
    static long serverNs(int pid, long tid) throws Exception {
        return Long.parseLong(Files.readString(Path.of("/proc/" + pid + "/task/" + tid + "/schedstat")).split(" ")[0]);
    }

    /** utime + stime of the whole server process, in nanoseconds (clock ticks of 10 ms). */
    static long processNs(int pid) throws Exception {
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return (Long.parseLong(f[11]) + Long.parseLong(f[12])) * 10_000_000L;
    }

    static String load() {
        try {
            return String.join(" ", java.util.Arrays.copyOf(Files.readString(Path.of("/proc/loadavg")).split(" "), 3));
        } catch (java.io.IOException e) {
            return "?";
        }
    }
}
