package dev.deputy.broker.console.bench;

import dev.deputy.broker.audit.AuditEntry;
import dev.deputy.broker.audit.AuditSeal;
import dev.deputy.broker.audit.AuditStore;
import dev.deputy.broker.storage.StorageBackend;

import java.nio.file.Files;
import java.sql.Connection;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * What indexes cost the audit append (the token path): {@link AuditStore#insert} of batches of 8 sealed entries (what
 * the group commit writes under load), timed with and without the given indexes on the same database, in alternating
 * phases so that table growth and machine load hit both alike. No JMH: a plain timing loop, medians of the phases.
 *
 * <p>Each index is {@code name:table:col1,col2,...}; the database is migrated first (all of the broker's indexes).
 */
final class InsertCost {
    static final int BATCH = 8;
    static final int BATCHES_PER_PHASE = 1500;
    static final int PHASES = 3;

    private InsertCost() {
    }

    static void run(String jdbcUrl, List<String> indexes) throws Exception {
        StorageBackend backend = StorageBackend.existing(ConsoleBench.mysql(jdbcUrl),
                Files.createTempDirectory("deputy-insert-cost"), ConsoleSeed.masterKey());
        try {
            String tenant = "insertcost";
            ConsoleSeed seed = new ConsoleSeed(tenant, 1000, 0, 1, System.currentTimeMillis());
            AuditStore store = backend.audit();
            // a base of 100,000 entries: the indexes are trees of some depth, not empty ones
            Random r = new Random(3);
            String[] corr = new String[1];
            long[] seq = {0};
            String[] prev = {AuditEntry.GENESIS};
            List<AuditEntry> base = new ArrayList<>();
            for (int i = 0; i < 100_000; i++) {
                AuditEntry e = AuditSeal.seal(seed.event(r, i, corr), ++seq[0], System.currentTimeMillis(), prev[0]);
                prev[0] = e.hash();
                base.add(e);
                if (base.size() == 1000) {
                    store.insert(base);
                    base = new ArrayList<>();
                }
            }
            double[] with = new double[PHASES];
            double[] without = new double[PHASES];
            for (int p = 0; p < PHASES; p++) {
                with[p] = phase(store, seed, r, corr, seq, prev);
                ddl(jdbcUrl, indexes, false);
                without[p] = phase(store, seed, r, corr, seq, prev);
                ddl(jdbcUrl, indexes, true);
            }
            Arrays.sort(with);
            Arrays.sort(without);
            System.out.printf("AuditStore.insert of %d entries, %d batches per phase, %d phases each, MariaDB, load average %s%n",
                    BATCH, BATCHES_PER_PHASE, PHASES, ConsoleBench.load());
            System.out.printf("  with    %s: median %.3f ms per batch (%.1f µs per entry); phases %s%n", indexes,
                    with[PHASES / 2], with[PHASES / 2] * 1000 / BATCH, Arrays.toString(round(with)));
            System.out.printf("  without %s: median %.3f ms per batch (%.1f µs per entry); phases %s%n", indexes,
                    without[PHASES / 2], without[PHASES / 2] * 1000 / BATCH, Arrays.toString(round(without)));
            System.out.printf("  difference: %+.1f%%%n", (with[PHASES / 2] / without[PHASES / 2] - 1) * 100);
        } finally {
            backend.close();
        }
    }

    static double[] round(double[] d) {
        double[] out = new double[d.length];
        for (int i = 0; i < d.length; i++) {
            out[i] = Math.round(d[i] * 1000) / 1000.0;
        }
        return out;
    }

    /** Mean milliseconds per insert of one batch over one phase (sealing happens before the clock starts). */
    static double phase(AuditStore store, ConsoleSeed seed, Random r, String[] corr, long[] seq, String[] prev) {
        List<List<AuditEntry>> batches = new ArrayList<>(BATCHES_PER_PHASE);
        for (int b = 0; b < BATCHES_PER_PHASE; b++) {
            List<AuditEntry> batch = new ArrayList<>(BATCH);
            for (int i = 0; i < BATCH; i++) {
                AuditEntry e = AuditSeal.seal(seed.event(r, seq[0], corr), ++seq[0], System.currentTimeMillis(), prev[0]);
                prev[0] = e.hash();
                batch.add(e);
            }
            batches.add(batch);
        }
        long t0 = System.nanoTime();
        for (List<AuditEntry> b : batches) {
            store.insert(b);
        }
        return (System.nanoTime() - t0) / 1e6 / BATCHES_PER_PHASE;
    }

    static void ddl(String jdbcUrl, List<String> indexes, boolean create) throws Exception {
        try (Connection c = ConsoleBench.connect(jdbcUrl); Statement st = c.createStatement()) {
            for (String ix : indexes) {
                String[] p = ix.split(":");
                st.execute(create ? "CREATE INDEX " + p[0] + " ON " + p[1] + " (" + p[2] + ")" : "DROP INDEX " + p[0] + " ON " + p[1]);
            }
        }
    }
}
