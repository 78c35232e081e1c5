package dev.deputy.broker.console.bench;

import dev.deputy.broker.config.DeputySettings;
import dev.deputy.broker.storage.StorageBackend;

import java.io.IOException;
import java.net.CookieManager;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * {@code scripts/bench console} (docs/benchmarks.md, "Console"): seeds a MariaDB database, then measures the console's
 * HTML pages as a signed-in admin sees them.
 * <pre>
 *   ConsoleBench master-key                                  the bench master key (base64), for DEPUTY_MASTER_KEY
 *   ConsoleBench seed JDBC_URL TENANT AGENTS ENTRIES DAYS    migrates and seeds (skips a tenant that has entries)
 *   ConsoleBench measure BROKER_URL JDBC_URL TENANT ROUNDS   signs in through the console's IdP, requests every page
 *   ConsoleBench insert-cost JDBC_URL INDEXES...             AuditStore.insert batch cost with and without INDEXES
 *   ConsoleBench sizes JDBC_URL                              the audit tables' rows and on-disk size per index (InnoDB)
 * </pre>
 * Time of every request: from sending it to the last byte of the page, one request at a time (what one admin waits),
 * pages interleaved round by round after a warm-up; p50/p95/p99/max per page.
 */
public final class ConsoleBench {
    private ConsoleBench() {
    }

    public static void main(String[] args) throws Exception {
        switch (args.length == 0 ? "" : args[0]) {
            case "master-key" -> System.out.println(Base64.getEncoder().encodeToString(ConsoleSeed.masterKey()));
            case "seed" -> seed(args[1], args[2], Integer.parseInt(args[3]), Long.parseLong(args[4]), Long.parseLong(args[5]));
            case "measure" -> measure(args[1], args[2], args[3], Integer.parseInt(args[4]));
            case "insert-cost" -> InsertCost.run(args[1], List.of(args).subList(2, args.length));
            case "sizes" -> sizes(args[1]);
            default -> {
                System.err.println("usage: ConsoleBench master-key | seed JDBC_URL TENANT AGENTS ENTRIES DAYS"
                        + " | measure BROKER_URL JDBC_URL TENANT ROUNDS | insert-cost JDBC_URL INDEX...");
                System.exit(2);
            }
        }
        System.exit(0);
    }

    static DeputySettings.MySql mysql(String jdbcUrl) {
        return new DeputySettings.MySql(jdbcUrl, System.getenv().getOrDefault("DEPUTY_MYSQL_USER", "root"),
                System.getenv().getOrDefault("DEPUTY_MYSQL_PASSWORD", ""));
    }

    static Connection connect(String jdbcUrl) throws Exception {
        DeputySettings.MySql my = mysql(jdbcUrl);
        return DriverManager.getConnection(jdbcUrl, my.user(), my.password());
    }

    static void seed(String jdbcUrl, String tenant, int agents, long entries, long days) throws Exception {
        Path dir = Files.createTempDirectory("deputy-console-seed");
        StorageBackend backend = StorageBackend.existing(mysql(jdbcUrl), dir, ConsoleSeed.masterKey());
        try {
            long existing;
            try (Connection c = connect(jdbcUrl); PreparedStatement ps = c.prepareStatement(
                    "SELECT (SELECT COUNT(*) FROM audit_log WHERE tenant_id = ?), (SELECT COUNT(*) FROM agents WHERE tenant_id = ?)")) {
                ps.setString(1, tenant);
                ps.setString(2, tenant);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    existing = rs.getLong(1) + rs.getLong(2);
                    if (existing > 0) {
                        System.out.printf("reusing the seeded database: %,d audit entries, %,d agents in tenant %s%n",
                                rs.getLong(1), rs.getLong(2), tenant);
                        return;
                    }
                }
            }
            // a bulk load, as a restore would do it: the audit tables' secondary indexes are dropped, the rows written,
            // and the indexes built again from their own definitions (information_schema), once, in sorted order
            List<String> indexes = secondaryIndexes(jdbcUrl, List.of("audit_log", "audit_agents"));
            try (Connection c = connect(jdbcUrl); var st = c.createStatement()) {
                for (String ix : indexes) {
                    String[] w = ix.split(" "); // name ON table (...)
                    st.execute("DROP INDEX " + w[0] + " ON " + w[2]);
                }
            }
            ConsoleSeed.seed(backend, tenant, agents, entries, days);
            long ti = System.nanoTime();
            try (Connection c = connect(jdbcUrl); var st = c.createStatement()) {
                for (String ix : indexes) {
                    st.execute("CREATE INDEX " + ix);
                }
            }
            System.out.printf("built the %d secondary indexes of audit_log and audit_agents in %.1f s%n", indexes.size(),
                    (System.nanoTime() - ti) / 1e9);
            long t0 = System.nanoTime();
            try (Connection c = connect(jdbcUrl); var st = c.createStatement()) {
                st.execute("ANALYZE TABLE agents, audit_log, audit_agents");
            }
            System.out.printf("ANALYZE TABLE in %.1f s%n", (System.nanoTime() - t0) / 1e9);
        } finally {
            backend.close();
        }
    }

    /** {@code "<name> ON <table> (<col>, ...)"} of every non-unique secondary index of the tables. */
    static List<String> secondaryIndexes(String jdbcUrl, List<String> tables) throws Exception {
        List<String> out = new ArrayList<>();
        try (Connection c = connect(jdbcUrl)) {
            for (String table : tables) {
                Map<String, List<String>> cols = new LinkedHashMap<>();
                try (PreparedStatement ps = c.prepareStatement("SELECT index_name, column_name FROM information_schema.statistics"
                        + " WHERE table_schema = DATABASE() AND table_name = ? AND index_name <> 'PRIMARY' AND non_unique = 1"
                        + " ORDER BY index_name, seq_in_index")) {
                    ps.setString(1, table);
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            cols.computeIfAbsent(rs.getString(1), k -> new ArrayList<>()).add(rs.getString(2));
                        }
                    }
                }
                cols.forEach((name, c2) -> out.add(name + " ON " + table + " (" + String.join(", ", c2) + ")"));
            }
        }
        return out;
    }

    /** Rows, data and index sizes of the audit tables (InnoDB's persistent statistics, after ANALYZE TABLE). */
    static void sizes(String jdbcUrl) throws Exception {
        try (Connection c = connect(jdbcUrl)) {
            String schema = c.getCatalog();
            for (String table : List.of("audit_log", "audit_agents", "agents")) {
                long rows = one(c, "SELECT COUNT(*) FROM " + table);
                try (PreparedStatement ps = c.prepareStatement("SELECT index_name, stat_value * @@innodb_page_size"
                        + " FROM mysql.innodb_index_stats WHERE database_name = ? AND table_name = ? AND stat_name = 'size'"
                        + " ORDER BY index_name = 'PRIMARY' DESC, index_name")) {
                    ps.setString(1, schema);
                    ps.setString(2, table);
                    StringBuilder sb = new StringBuilder();
                    long total = 0;
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            total += rs.getLong(2);
                            sb.append(String.format("%s %.1f MiB; ", rs.getString(1).equals("PRIMARY") ? "rows (primary key)"
                                    : rs.getString(1), rs.getLong(2) / 1048576.0));
                        }
                    }
                    System.out.printf("size %-12s %,d rows, %.1f MiB in all: %s%n", table, rows, total / 1048576.0, sb);
                }
            }
        }
    }

    /** One page to measure: a label, its path and a text every good answer contains. */
    record Page(String label, String path, String expect, boolean optional) {
        Page(String label, String path, String expect) {
            this(label, path, expect, false);
        }
    }

    static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    /** Values for the pages' filters, read from the seeded database (so a reused or differently sized one works too). */
    static Map<String, String> samples(String jdbcUrl, String tenant) throws Exception {
        Map<String, String> m = new LinkedHashMap<>();
        try (Connection c = connect(jdbcUrl)) {
            long max = one(c, "SELECT MAX(seq) FROM audit_log WHERE tenant_id = ?", tenant);
            m.put("max", Long.toString(max));
            m.put("correlation", text(c, "SELECT correlation_id FROM audit_log WHERE tenant_id = ? AND seq >= ? AND correlation_id IS NOT NULL ORDER BY seq LIMIT 1", tenant, max / 2));
            m.put("entry", Long.toString(max / 3));
            m.put("deepSeq", Long.toString(Math.max(1, max / 10)));
            long first = one(c, "SELECT MIN(at_ms) FROM audit_log WHERE tenant_id = ?", tenant);
            m.put("oldFrom", Long.toString(first + 86_400_000L));
            m.put("oldTo", Long.toString(first + 86_400_000L + 3_600_000L));
            m.put("hotAgent", text(c, "SELECT id FROM agents WHERE tenant_id = ? ORDER BY id LIMIT 1", tenant));
            m.put("quietAgent", text(c, "SELECT id FROM agents WHERE tenant_id = ? ORDER BY id DESC LIMIT 1", tenant));
            m.put("agents", Long.toString(one(c, "SELECT COUNT(*) FROM agents WHERE tenant_id = ?", tenant)));
            m.put("exchange", text(c, "SELECT seq FROM audit_log WHERE tenant_id = ? AND event_type = 'token.exchanged'"
                    + " AND actor LIKE '% > %' AND seq >= ? ORDER BY seq LIMIT 1", tenant, max / 3));
        }
        m.put("user", ConsoleSeed.HOT_USER);
        m.put("owner", "zoë.ångström@corp.example");
        return m;
    }

    static long one(Connection c, String sql, Object... args) throws Exception {
        String s = text(c, sql, args);
        return s == null ? 0 : Long.parseLong(s);
    }

    static String text(Connection c, String sql, Object... args) throws Exception {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                ps.setObject(i + 1, args[i]);
            }
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        }
    }

    /** The pages: those on main, and those the audit and overview pages add when their controllers exist. */
    static List<Page> pages(String tenant, Map<String, String> s) {
        String t = "/console/t/" + enc(tenant);
        List<Page> p = new ArrayList<>();
        p.add(new Page("console home", "/console", "<main"));
        p.add(new Page("agents: first page", t + "/agents", "data-agent="));
        p.add(new Page("agents: search 'reconciler'", t + "/agents?q=reconciler", "data-agent="));
        p.add(new Page("agents: search 'zoë' (unicode)", t + "/agents?q=" + enc("zoë"), "data-agent="));
        p.add(new Page("agents: status=suspended", t + "/agents?status=suspended", "data-agent="));
        p.add(new Page("agents: owner filter", t + "/agents?owner=" + enc(s.get("owner")), "data-agent="));
        long pages = Math.max(1, (Long.parseLong(s.get("agents")) + 49) / 50);
        p.add(new Page("agents: deep page (" + pages + ")", t + "/agents?page=" + pages, "data-agent="));
        p.add(new Page("agent detail (busiest)", t + "/agents/" + s.get("hotAgent"), s.get("hotAgent")));
        p.add(new Page("agent detail (quiet)", t + "/agents/" + s.get("quietAgent"), s.get("quietAgent")));
        // the tenant overview and the audit pages (issue 15's other helpers): measured when the broker has them
        p.add(new Page("overview", t, "<main", true));
        String a = t + "/audit";
        p.add(new Page("audit: newest, no filter", a, "data-seq=", true));
        p.add(new Page("audit: by user", a + "?user=" + enc(s.get("user")), "data-seq=", true));
        p.add(new Page("audit: by agent (busiest)", a + "?agent=" + enc(s.get("hotAgent")), "data-seq=", true));
        p.add(new Page("audit: by agent (quiet)", a + "?agent=" + enc(s.get("quietAgent")), "data-seq=", true));
        p.add(new Page("audit: type prefix token.", a + "?type=token.", "data-seq=", true));
        p.add(new Page("audit: type agent.suspended", a + "?type=agent.suspended", "data-seq=", true));
        p.add(new Page("audit: user + type prefix token.", a + "?user=" + enc(s.get("user")) + "&type=token.", "data-seq=", true));
        p.add(new Page("audit: outcome deny", a + "?outcome=deny", "data-seq=", true));
        p.add(new Page("audit: by correlation id", a + "?correlation_id=" + enc(s.get("correlation")), "data-seq=", true));
        p.add(new Page("audit: old time range (1 h, 29 days ago)", a + "?since=" + enc(java.time.Instant.ofEpochMilli(
                Long.parseLong(s.get("oldFrom"))).toString()) + "&until=" + enc(java.time.Instant.ofEpochMilli(
                Long.parseLong(s.get("oldTo"))).toString()), "data-seq=", true));
        p.add(new Page("audit: since 24h", a + "?since=24h", "data-seq=", true));
        p.add(new Page("audit: deep keyset page (before=" + s.get("deepSeq") + ")", a + "?before=" + s.get("deepSeq"), "data-seq=", true));
        p.add(new Page("audit: entry detail", a + "/" + s.get("entry"), "<main", true));
        if (s.get("exchange") != null) {
            p.add(new Page("audit: delegation chain", a + "/" + s.get("exchange") + "/chain", "<main", true));
        }
        p.add(new Page("audit: live page", a + "/live", "<main", true));
        return p;
    }

    static void measure(String base, String jdbcUrl, String tenant, int rounds) throws Exception {
        Map<String, String> s = samples(jdbcUrl, tenant);
        CookieManager jar = new CookieManager();
        HttpClient http = HttpClient.newBuilder().cookieHandler(jar).followRedirects(HttpClient.Redirect.NEVER)
                .connectTimeout(Duration.ofSeconds(5)).build();
        HttpResponse<String> home = follow(http, base + "/console");
        if (home.statusCode() != 200 || !home.body().contains(ConsoleSeed.HOT_USER)) {
            throw new IllegalStateException("the console sign-in did not end on the console home page: " + home.statusCode()
                    + " " + home.uri() + "\n" + home.body());
        }
        System.out.println("signed in to the console as " + ConsoleSeed.HOT_USER + " (super_admin) through " + home.uri().getHost());
        List<Page> pages = pages(tenant, s);
        List<Page> present = new ArrayList<>();
        for (Page p : pages) {
            HttpResponse<String> r = get(http, base + p.path());
            if (r.statusCode() == 404 && p.optional()) {
                continue;
            }
            if (r.statusCode() != 200 || !r.body().contains(p.expect())) {
                throw new IllegalStateException(p.label() + ": " + p.path() + " answered " + r.statusCode()
                        + " without '" + p.expect() + "':\n" + r.body().substring(0, Math.min(2000, r.body().length())));
            }
            present.add(p);
        }
        String only = System.getenv("CONSOLE_PAGES");
        if (only != null && !only.isBlank()) {
            Pattern keep = Pattern.compile(only);
            present.removeIf(p -> !keep.matcher(p.label()).find());
        }
        int warmup = Integer.getInteger("bench.warmup", Math.max(5, rounds / 4));
        for (int i = 0; i < warmup; i++) {
            for (Page p : present) {
                get(http, base + p.path());
            }
        }
        // CONSOLE_SQL=1: which statements each page waits for (information_schema.processlist sampled every 20 ms
        // from a connection of its own; no server setting changed; statements shorter than a sample are not seen)
        SqlSampler sampler = "1".equals(System.getenv("CONSOLE_SQL")) ? SqlSampler.start(jdbcUrl) : null;
        double[][] ms = new double[present.size()][rounds];
        long[] bytes = new long[present.size()];
        String load0 = load();
        for (int i = 0; i < rounds; i++) {
            for (int k = 0; k < present.size(); k++) {
                if (sampler != null) {
                    sampler.page = present.get(k).label();
                }
                long t0 = System.nanoTime();
                HttpResponse<String> r = get(http, base + present.get(k).path());
                ms[k][i] = (System.nanoTime() - t0) / 1e6;
                if (r.statusCode() != 200) {
                    throw new IllegalStateException(present.get(k).label() + " answered " + r.statusCode());
                }
                bytes[k] = r.body().length();
            }
        }
        String load1 = load();
        System.out.printf("# %d warm-up rounds, then %d measured rounds of %d pages, one request at a time; load average %s before, %s after%n",
                warmup, rounds, present.size(), load0, load1);
        System.out.printf("%-44s %8s %8s %8s %8s %9s%n", "page", "p50 ms", "p95 ms", "p99 ms", "max ms", "KiB");
        boolean allUnder = true;
        for (int k = 0; k < present.size(); k++) {
            double[] d = ms[k].clone();
            Arrays.sort(d);
            double p95 = pct(d, 95);
            allUnder &= p95 < 100;
            System.out.printf("%-44s %8.1f %8.1f %8.1f %8.1f %9.1f%n", present.get(k).label(), pct(d, 50), p95, pct(d, 99),
                    d[d.length - 1], bytes[k] / 1024.0);
        }
        System.out.println(allUnder ? "every page: p95 < 100 ms" : "NOT every page has p95 < 100 ms");
        if (sampler != null) {
            sampler.stop();
            sampler.print(rounds);
        }
        System.out.println("# paths: ");
        present.forEach(p -> System.out.println("#   " + p.label() + ": " + p.path()));
    }

    static double pct(double[] sorted, int p) {
        int i = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
    }

    static String load() {
        try {
            return String.join(" ", Arrays.copyOf(Files.readString(Path.of("/proc/loadavg")).split(" "), 3));
        } catch (IOException e) {
            return "?";
        }
    }

    static HttpResponse<String> get(HttpClient http, String uri) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(uri)).timeout(Duration.ofSeconds(60)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** GET, following redirects (the sign-in: console → IdP → callback → console) with the cookie jar. */
    static HttpResponse<String> follow(HttpClient http, String uri) throws Exception {
        HttpResponse<String> r = get(http, uri);
        for (int i = 0; i < 10 && r.statusCode() / 100 == 3; i++) {
            r = get(http, r.uri().resolve(r.headers().firstValue("Location").orElseThrow()).toString());
        }
        return r;
    }

    /**
     * Samples {@code information_schema.processlist} (the bench database's running statements, with MariaDB's
     * {@code TIME_MS}) and attributes each statement seen to the page being requested: per page and statement shape
     * (digits replaced), how often it was seen running and its longest observed duration, with one full text to
     * {@code EXPLAIN}.
     */
    static final class SqlSampler implements Runnable {
        volatile String page = "";
        private volatile boolean running = true;
        private final Connection c;
        private final Thread thread;
        /** page -> shape -> {instances, max ms, sum of per-instance max ms}, and a sample text per shape. */
        private final Map<String, Map<String, double[]>> seen = new TreeMap<>();
        private final Map<String, String> text = new java.util.HashMap<>();
        private final Map<String, double[]> current = new java.util.HashMap<>(); // "id:text" -> ms of the instance

        private SqlSampler(Connection c) {
            this.c = c;
            this.thread = Thread.ofPlatform().daemon().name("sql-sampler").unstarted(this);
        }

        static SqlSampler start(String jdbcUrl) throws Exception {
            SqlSampler s = new SqlSampler(connect(jdbcUrl));
            s.thread.start();
            return s;
        }

        @Override
        public void run() {
            try (PreparedStatement ps = c.prepareStatement("SELECT id, time_ms, info FROM information_schema.processlist"
                    + " WHERE db = DATABASE() AND command = 'Query' AND id <> CONNECTION_ID() AND info IS NOT NULL")) {
                while (running) {
                    String p = page;
                    Map<String, double[]> now = new java.util.HashMap<>();
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            now.put(rs.getLong(1) + ":" + rs.getString(3), new double[]{rs.getDouble(2)});
                        }
                    }
                    synchronized (this) {
                        // instances that ended since the last sample: count them under the page
                        for (var e : current.entrySet()) {
                            if (!now.containsKey(e.getKey())) {
                                record(e.getValue()[1] == 0 ? p : pageOf(e.getValue()), e.getKey(), e.getValue()[0]);
                            }
                        }
                        for (var e : now.entrySet()) {
                            double[] was = current.get(e.getKey());
                            current.put(e.getKey(), new double[]{Math.max(e.getValue()[0], was == null ? 0 : was[0]),
                                    was == null ? pageId(p) : was[1]});
                        }
                        current.keySet().retainAll(now.keySet());
                    }
                    Thread.sleep(20);
                }
            } catch (Exception e) {
                System.err.println("sql sampler stopped: " + e);
            }
        }

        private final List<String> pages = new ArrayList<>();

        private double pageId(String p) {
            int i = pages.indexOf(p);
            if (i < 0) {
                pages.add(p);
                i = pages.size() - 1;
            }
            return i + 1;
        }

        private String pageOf(double[] v) {
            return pages.get((int) v[1] - 1);
        }

        private void record(String p, String key, double ms) {
            String sql = key.substring(key.indexOf(':') + 1);
            String shape = sql.replaceAll("'[^']*'", "?").replaceAll("\\b\\d+\\b", "N");
            double[] a = seen.computeIfAbsent(p, k -> new TreeMap<>()).computeIfAbsent(shape, k -> new double[3]);
            a[0]++;
            a[1] = Math.max(a[1], ms);
            a[2] += ms;
            text.putIfAbsent(shape, sql);
        }

        void stop() throws Exception {
            running = false;
            thread.join(2000);
            c.close();
        }

        synchronized void print(int rounds) {
            System.out.println("# statements seen running (processlist every 20 ms) per page: seen, per round, max ms, shape");
            seen.forEach((p, shapes) -> {
                System.out.println("## " + p);
                shapes.entrySet().stream().sorted((x, y) -> Double.compare(y.getValue()[2], x.getValue()[2]))
                        .forEach(e -> System.out.printf("   %5.0f %6.2f %8.0f  %s%n", e.getValue()[0], e.getValue()[0] / rounds,
                                e.getValue()[1], text.get(e.getKey()).replaceAll("\\s+", " ")));
            });
        }
    }
}
