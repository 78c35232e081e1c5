package dev.deputy.broker.audit;

import dev.deputy.broker.storage.JooqAuditStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Figures for docs/audit.md; not part of the normal suite (needs -Ddeputy.bench=true; scripts/bench-audit).
 * Prints numbers, asserts nothing about time.
 * <ul>
 *   <li>{@code throughput}: 64 concurrent appenders for {@code deputy.bench.seconds} on H2 and MariaDB.</li>
 *   <li>{@code verify}: {@code deputy.bench.verify} (1,000,000) pre-sealed entries batch-inserted, then verified.</li>
 *   <li>{@code query}: {@code deputy.bench.rows} (10,000,000) entries on MariaDB, then per-agent / per-user /
 *       correlation queries with EXPLAIN.</li>
 * </ul>
 */
@EnabledIfSystemProperty(named = "deputy.bench", matches = "true")
class AuditBenchTest {
    static long prop(String name, long dflt) {
        return Long.getLong(name, dflt);
    }

    static TestBackends backend(String name) throws Exception {
        return name.equals("h2") ? TestBackends.h2() : TestBackends.mariadb();
    }

    static List<String> backendsProp() {
        return List.of(System.getProperty("deputy.bench.backends", "h2,mariadb").split(","));
    }

    /** Counts commits (store.insert calls) on the way to the real store. */
    static final class CountingStore implements AuditStore {
        final AuditStore d;
        final AtomicLong commits = new AtomicLong();

        CountingStore(AuditStore d) {
            this.d = d;
        }

        public Optional<AuditEntry> head(String t) {
            return d.head(t);
        }

        public void insert(List<AuditEntry> e) {
            d.insert(e);
            commits.incrementAndGet();
        }

        public List<AuditEntry> range(String t, long f, int l) {
            return d.range(t, f, l);
        }

        public void scan(String t, long f, long to, EntryVisitor v) {
            d.scan(t, f, to, v);
        }

        public Optional<Long> firstSeq(String t) {
            return d.firstSeq(t);
        }

        public Optional<Long> firstSeqAtOrAfter(String t, long ms) {
            return d.firstSeqAtOrAfter(t, ms);
        }

        public Optional<AuditEntry> findByHash(String t, String h) {
            return d.findByHash(t, h);
        }

        public List<AuditEntry> query(AuditQuery q) {
            return d.query(q);
        }

        public boolean insertCheckpoint(AuditCheckpoint c) {
            return d.insertCheckpoint(c);
        }

        public List<AuditCheckpoint> checkpoints(String t, long f, long to, int l) {
            return d.checkpoints(t, f, to, l);
        }

        public Optional<AuditCheckpoint> latestCheckpoint(String t) {
            return d.latestCheckpoint(t);
        }

        public Optional<AuditCheckpoint> checkpointAtOrAfter(String t, long s) {
            return d.checkpointAtOrAfter(t, s);
        }

        public void archive(AuditArchive m) {
            d.archive(m);
        }

        public List<AuditArchive> archives(String t) {
            return d.archives(t);
        }
    }

    @Test
    void throughput() throws Exception {
        int threads = (int) prop("deputy.bench.threads", 64);
        long seconds = prop("deputy.bench.seconds", 10);
        for (String name : backendsProp()) {
            TestBackends b = backend(name);
            try {
                CountingStore store = new CountingStore(b.store);
                AuditLog log = new AuditLog(store);
                String t = TestBackends.tenant();
                log.append(AuditEvent.of(t, EventTypes.TOKEN_ISSUED, AuditEvent.Outcome.SUCCESS).build()); // warm
                AtomicBoolean stop = new AtomicBoolean();
                AtomicLong appended = new AtomicLong();
                CountDownLatch done = new CountDownLatch(threads);
                long c0 = store.commits.get();
                long t0 = System.nanoTime();
                for (int i = 0; i < threads; i++) {
                    final int n = i;
                    Thread.ofPlatform().start(() -> {
                        try {
                            while (!stop.get()) {
                                log.append(AuditEvent.of(t, EventTypes.TOKEN_ISSUED, AuditEvent.Outcome.SUCCESS)
                                        .subject("user" + n, "https://idp.example.com").client("client-" + n)
                                        .agent("agt_" + n).resource("https://mcp.example.com").scopes("files:read")
                                        .request(new RequestMeta("corr-" + n, "req-" + appended.get(), "10.0.0." + n))
                                        .detail("grant_type", "client_credentials").build());
                                appended.incrementAndGet();
                            }
                        } finally {
                            done.countDown();
                        }
                    });
                }
                Thread.sleep(seconds * 1000);
                stop.set(true);
                done.await();
                double s = (System.nanoTime() - t0) / 1e9;
                long commits = store.commits.get() - c0;
                System.out.printf("BENCH append %-8s threads=%d  %,d entries in %.1f s = %,.0f entries/s, %,d commits = %,.0f commits/s, %.1f entries/commit%n",
                        name, threads, appended.get(), s, appended.get() / s, commits, commits / s, appended.get() / (double) commits);
                AuditVerifier.Report r = new AuditVerifier(b.store).verify(t);
                System.out.println("BENCH append " + name + " chain verifies: " + r.ok() + " (" + r.checked() + " entries)");
            } finally {
                b.shutdown();
            }
        }
    }

    /** Pre-seals n entries and writes them straight into the store in multi-row batches. */
    static long generate(JooqAuditStore store, String t, long n, boolean realHashes, int agents) {
        long t0 = System.nanoTime();
        String prev = AuditEntry.GENESIS;
        long now = System.currentTimeMillis() - n;
        List<AuditEntry> batch = new ArrayList<>(2000);
        for (long seq = 1; seq <= n; seq++) {
            int a = (int) (seq % agents);
            AuditEvent ev = AuditEvent.of(t, seq % 10 == 0 ? EventTypes.TOKEN_EXCHANGED : EventTypes.TOKEN_ISSUED,
                            AuditEvent.Outcome.SUCCESS)
                    .subject("user" + (seq % 50_000), "https://idp.example.com")
                    .actors(seq % 10 == 0 ? List.of("agt_" + a, "agt_" + ((a + 1) % agents)) : List.of())
                    .agent("agt_" + a).client("client-" + (a % 500)).resource("https://mcp" + (seq % 20) + ".example.com")
                    .scopes("files:read").request(new RequestMeta("corr-" + (seq / 4), "req-" + seq, "10.0.0.1"))
                    .detail("grant_type", "client_credentials").build();
            AuditEntry e;
            if (realHashes) {
                e = AuditSeal.seal(ev, seq, now + seq, prev);
                prev = e.hash();
            } else {
                AuditEntry s = AuditSeal.seal(ev, seq, now + seq, prev);
                e = s;
            }
            batch.add(e);
            if (batch.size() == 2000) {
                store.insert(batch);
                batch = new ArrayList<>(2000);
            }
            if (seq % 1_000_000 == 0) {
                System.out.printf("BENCH generated %,d in %.0f s%n", seq, (System.nanoTime() - t0) / 1e9);
            }
        }
        if (!batch.isEmpty()) {
            store.insert(batch);
        }
        return (System.nanoTime() - t0) / 1_000_000;
    }

    @Test
    void verify() throws Exception {
        long n = prop("deputy.bench.verify", 1_000_000);
        for (String name : backendsProp()) {
            TestBackends b = backend(name);
            try {
                String t = TestBackends.tenant();
                if (name.equals("h2")) {
                    // verification reads the primary key only: load without the secondary indexes (maintaining seven
                    // of them made the 1M-row H2 load take over 10 minutes on this box)
                    for (String ix : List.of("audit_log_subject", "audit_log_client", "audit_log_resource", "audit_log_type",
                            "audit_log_correlation", "audit_log_time", "audit_agents_type")) {
                        b.db.dsl().execute("DROP INDEX " + ix);
                    }
                }
                long genMs = generate(b.store, t, n, true, 1000);
                System.out.printf("BENCH verify %-8s generated %,d sealed entries in %.1f s%n", name, n, genMs / 1e3);
                for (int run = 1; run <= 2; run++) {
                    long t0 = System.nanoTime();
                    AuditVerifier.Report r = new AuditVerifier(b.store).verify(t);
                    double s = (System.nanoTime() - t0) / 1e9;
                    System.out.printf("BENCH verify %-8s run %d: %,d entries in %.1f s (%,.0f entries/s) ok=%s%n",
                            name, run, r.checked(), s, r.checked() / s, r.ok());
                }
            } finally {
                b.shutdown();
            }
        }
    }

    @Test
    void query() throws Exception {
        long n = prop("deputy.bench.rows", 10_000_000);
        String name = System.getProperty("deputy.bench.backends", "mariadb").split(",")[0];
        TestBackends b = backend(name);
        try {
            String t = TestBackends.tenant();
            List<String> indexes = List.of(
                    "audit_log_subject ON audit_log (tenant_id, subject, seq)",
                    "audit_log_client ON audit_log (tenant_id, client_id, seq)",
                    "audit_log_resource ON audit_log (tenant_id, resource, seq)",
                    "audit_log_type ON audit_log (tenant_id, event_type, seq)",
                    "audit_log_correlation ON audit_log (tenant_id, correlation_id, seq)",
                    "audit_log_time ON audit_log (tenant_id, at_ms, seq)");
            boolean bulk = name.equals("mariadb") && Boolean.parseBoolean(System.getProperty("deputy.bench.bulk", "true"));
            if (bulk) {
                // bulk load: build the secondary indexes once, after the rows (as a restore would)
                for (String ix : indexes) {
                    b.db.dsl().execute("DROP INDEX " + ix.substring(0, ix.indexOf(' ')) + " ON audit_log");
                }
            }
            long genMs = generate(b.store, t, n, false, 1000);
            System.out.printf("BENCH query %-8s generated %,d entries in %.1f s%n", name, n, genMs / 1e3);
            if (bulk) {
                long t0 = System.nanoTime();
                // a plain connection: the broker's pool has a 10 s socket timeout, index builds take minutes
                try (java.sql.Connection c = java.sql.DriverManager.getConnection(TestBackends.MARIADB + b.mariaDbName, "root", "");
                     java.sql.Statement st = c.createStatement()) {
                    for (String ix : indexes) {
                        st.execute("CREATE INDEX " + ix);
                    }
                }
                System.out.printf("BENCH query %-8s built the 6 secondary indexes in %.1f s%n", name, (System.nanoTime() - t0) / 1e9);
            }
            if (name.equals("mariadb")) {
                try (java.sql.Connection c = java.sql.DriverManager.getConnection(TestBackends.MARIADB + b.mariaDbName, "root", "");
                     java.sql.Statement st = c.createStatement()) {
                    st.execute("ANALYZE TABLE audit_log, audit_agents");
                    try (var rs = st.executeQuery("select (select count(*) from audit_log), (select count(*) from audit_agents)")) {
                        rs.next();
                        System.out.printf("BENCH query rows: %,d entries, %,d agent index rows%n", rs.getLong(1), rs.getLong(2));
                    }
                }
            }
            time(b, "agent (direct or in act chain), first page of 100", new AuditQuery(t, null, null, null, "agt_417", null,
                    null, null, null, null, null, 0, 100));
            time(b, "agent, page after seq 5,000,000", new AuditQuery(t, null, null, null, "agt_417", null,
                    null, null, null, null, null, n / 2, 100));
            time(b, "user", new AuditQuery(t, null, null, "user4242", null, null, null, null, null, null, null, 0, 100));
            time(b, "client", new AuditQuery(t, null, null, null, null, "client-17", null, null, null, null, null, 0, 100));
            time(b, "correlation id", new AuditQuery(t, null, null, null, null, null, null, null, null,
                    "corr-" + (n / 8), null, 0, 100));
            time(b, "type token.exchanged", new AuditQuery(t, null, null, null, null, null, null,
                    List.of(EventTypes.TOKEN_EXCHANGED), null, null, null, 0, 100));
            long mid = System.currentTimeMillis() - n / 2;
            time(b, "time range (1 minute)", new AuditQuery(t, mid, mid + 60_000, null, null, null, null, null, null,
                    null, null, 0, 100));
            time(b, "agent + type, matches (agt_410 token.exchanged)", new AuditQuery(t, null, null, null, "agt_410", null,
                    null, List.of(EventTypes.TOKEN_EXCHANGED), null, null, null, 0, 100));
            time(b, "agent + type, no match", new AuditQuery(t, null, null, null, "agt_417", null, null,
                    List.of(EventTypes.TOKEN_EXCHANGED), null, null, null, 0, 100));
            if (name.equals("mariadb")) {
                for (String sql : List.of(
                        "EXPLAIN SELECT l.* FROM audit_agents a JOIN audit_log l ON l.tenant_id = a.tenant_id AND l.seq = a.seq WHERE a.tenant_id = '" + t + "' AND a.agent_id = 'agt_417' AND a.seq > 0 ORDER BY a.seq LIMIT 100",
                        "EXPLAIN SELECT l.* FROM audit_agents a JOIN audit_log l ON l.tenant_id = a.tenant_id AND l.seq = a.seq WHERE a.tenant_id = '" + t + "' AND a.agent_id = 'agt_417' AND a.event_type = 'token.exchanged' AND a.seq > 0 ORDER BY a.seq LIMIT 100",
                        "EXPLAIN SELECT * FROM audit_log WHERE tenant_id = '" + t + "' AND subject = 'user4242' AND seq > 0 ORDER BY seq LIMIT 100",
                        "EXPLAIN SELECT * FROM audit_log WHERE tenant_id = '" + t + "' AND correlation_id = 'corr-1' AND seq > 0 ORDER BY seq LIMIT 100")) {
                    System.out.println("BENCH " + sql.substring(0, 60) + "...");
                    b.db.dsl().fetch(sql).forEach(r -> System.out.println("BENCH   " + r.formatCSV(false).trim()));
                }
            }
        } finally {
            b.shutdown();
        }
    }

    static void time(TestBackends b, String what, AuditQuery q) {
        int rows = 0;
        long best = Long.MAX_VALUE;
        for (int i = 0; i < 5; i++) {
            long t0 = System.nanoTime();
            rows = b.store.query(q).size();
            best = Math.min(best, System.nanoTime() - t0);
        }
        System.out.printf("BENCH query %-55s %4d rows, best of 5: %.1f ms%n", what, rows, best / 1e6);
    }
}
