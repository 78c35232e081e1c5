package dev.deputy.broker.keys;

import dev.deputy.broker.audit.AuditEvent;
import dev.deputy.broker.audit.AuditLog;
import dev.deputy.broker.audit.EventTypes;
import dev.deputy.broker.audit.SecretGuard;
import io.micronaut.context.BeanProvider;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * Reports stored rows that fail their integrity check ({@link RowSeal}): an ERROR log line, a counter the operator
 * reads at {@code GET /health} ({@code integrity.failed_rows}), and one {@code key.integrity_failed} entry in the
 * row's tenant chain ({@code _broker} for broker-wide rows). Each bad row is reported once per broker process (the
 * same row re-read by every cache refresh stays one report; a row edited again is a new report).
 *
 * <p>Audit entries are appended on a thread of their own: a failing row is found while a cache loads, possibly on
 * the audit writer's own path (checkpoint signing), which must never wait for itself.
 */
@Singleton
public class IntegrityAlarm {
    private static final Logger LOG = LoggerFactory.getLogger(IntegrityAlarm.class);
    /** Where broker-wide rows (admin credentials, the integrity markers) are reported. */
    public static final String BROKER_CHAIN = "_broker";

    /**
     * One row that failed.
     *
     * @param table  the table
     * @param tenant the tenant the row belongs to ({@link #BROKER_CHAIN} for broker-wide rows)
     * @param row    the row's key (kid, credential id, client_id, ...) as stored
     * @param reason {@code unsealed} (no MAC: planted, or written before the upgrade and not adopted) or
     *               {@code mac_mismatch} (edited or planted with a made-up MAC)
     */
    public record Failure(String table, String tenant, String row, String reason) {
    }

    private final Consumer<AuditEvent> sink;
    private final Set<String> reported = ConcurrentHashMap.newKeySet();
    private final AtomicLong failed = new AtomicLong();
    private final Map<String, AtomicLong> byTable = new ConcurrentHashMap<>();
    private final Deque<Failure> recent = new ArrayDeque<>();
    private final ExecutorService writer = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "integrity-alarm");
        t.setDaemon(true);
        return t;
    });

    @Inject
    public IntegrityAlarm(BeanProvider<AuditLog> audit) {
        this(e -> audit.get().append(e));
    }

    /** For tests and tools: audit events go to {@code sink}. */
    public IntegrityAlarm(Consumer<AuditEvent> sink) {
        this.sink = sink;
    }

    /**
     * Reports a failing row unless this exact row (same key, same stored MAC, same content digest) was reported
     * already by this process.
     *
     * @param fingerprint distinguishes versions of the row (the stored MAC and a digest of the content)
     */
    public void failed(Failure f, String fingerprint) {
        if (!reported.add(f.table() + '\u0000' + f.tenant() + '\u0000' + f.row() + '\u0000' + fingerprint)) {
            return;
        }
        failed.incrementAndGet();
        byTable.computeIfAbsent(f.table(), k -> new AtomicLong()).incrementAndGet();
        synchronized (recent) {
            recent.addFirst(f);
            while (recent.size() > 20) {
                recent.removeLast();
            }
        }
        LOG.error("INTEGRITY: {} row {} of tenant {} fails its master-key MAC ({}): not used. Someone wrote it without "
                + "the master key (or the master key changed); see docs/audit.md, 'Threat model: a database attacker'",
                f.table(), f.row(), f.tenant(), f.reason());
        AuditEvent.Builder b = AuditEvent.of(f.tenant(), EventTypes.KEY_INTEGRITY_FAILED, AuditEvent.Outcome.FAILURE)
                .detail("table", f.table()).detail("reason", f.reason());
        String row = safeRow(f.row());
        if (row != null && SecretGuard.looksLikeCredential(row)) {
            b.detail("row_sha256", sha256(f.row())); // an identifier shaped like a token: its digest, never a refusal
        } else {
            b.detail("row", row);
        }
        submit(b);
    }

    /** Records a one-time adoption of rows written before row MACs existed (counts per table). */
    public void adopted(String tenant, Map<String, Integer> counts, String note) {
        int total = counts.values().stream().mapToInt(Integer::intValue).sum();
        if (total > 0) {
            LOG.warn("INTEGRITY: adopted {} rows of tenant {} written before row MACs existed ({}): {}", total, tenant,
                    note, counts);
        } else {
            // a fresh database: nothing was written before row MACs, nothing to warn about (the entry still records it)
            LOG.info("row integrity: no rows of tenant {} needed adoption ({})", tenant, note);
        }
        List<Map<String, Object>> rows = new ArrayList<>();
        new TreeMap<>(counts).forEach((table, n) -> rows.add(Map.of("table", table, "count", n)));
        submit(AuditEvent.of(tenant, EventTypes.INTEGRITY_ADOPTED, AuditEvent.Outcome.INFO)
                .detail("rows", rows).detail("note", note));
    }

    private void submit(AuditEvent.Builder event) {
        writer.execute(() -> {
            try {
                sink.accept(event.build());
            } catch (RuntimeException ex) {
                LOG.error("INTEGRITY: could not audit an integrity event: {}", ex.toString());
            }
        });
    }

    private static String sha256(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Row keys are identifiers; a long one is cut (the table and tenant still say where to look). */
    private static String safeRow(String row) {
        if (row == null) {
            return null;
        }
        return row.length() <= 200 ? row : row.substring(0, 200) + "...";
    }

    /** Rows that failed since this process started (each counted once). */
    public long failedRows() {
        return failed.get();
    }

    public Map<String, Long> failedByTable() {
        Map<String, Long> m = new TreeMap<>();
        byTable.forEach((k, v) -> m.put(k, v.get()));
        return m;
    }

    public List<Failure> recent() {
        synchronized (recent) {
            return List.copyOf(recent);
        }
    }
}
