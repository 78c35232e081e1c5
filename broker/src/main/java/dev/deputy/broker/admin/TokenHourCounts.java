package dev.deputy.broker.admin;

import dev.deputy.broker.audit.AuditStore;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The console overview's token entries per hour (issued, refused), maintained rather than recomputed on every view.
 * The first view of a tenant counts its window once (one aggregate over the (tenant, type, time) index: about 24,000
 * index entries for the last 24 hours of 1,000,000 entries over 30 days); each later view counts only the entries
 * appended since the last count — seq above it, up to the head read for this view: the chain's newest rows, usually
 * a handful — adds them to the kept hours and drops the hours that left the window.
 *
 * <p>Exact: each entry is counted once, by its seq, in the hour of its own time (an entry stamped in an earlier hour,
 * by a node whose clock is late, still lands in that hour). Each node keeps its own counts and extends them from the
 * database, so nodes agree. A chain shorter than the count (a tenant's trail replaced, as in tests) or a window that
 * moved backwards (the clock) starts a fresh count. Entries archived after they were counted stay in their hour until
 * it leaves the window (a retention shorter than the window only). One small map per tenant.
 */
public final class TokenHourCounts {
    private final AuditStore audit;
    private final List<String> types;
    private final List<String> refused;
    private final Map<String, Kept> kept = new ConcurrentHashMap<>();

    /** Counts taken up to {@code upToSeq}, for hours starting at {@code fromMs} or later (hour start → issued, refused). */
    private record Kept(long fromMs, long upToSeq, Map<Long, long[]> byHour) {
    }

    /** @param issued the types counted as issued; {@code refused} the one counted as refused */
    public TokenHourCounts(AuditStore audit, List<String> issued, String refused) {
        this.audit = audit;
        List<String> all = new ArrayList<>(issued);
        all.add(refused);
        this.types = List.copyOf(all);
        this.refused = List.of(refused);
    }

    /**
     * Hour start (epoch ms, UTC hours) → {issued, refused} for the tenant's entries with {@code at_ms ≥ fromMs} and
     * {@code seq ≤ head} ({@code head}: the tenant's head as the caller read it). Hours without entries are absent; the
     * caller takes the hours of its window (entries stamped after it are counted too and kept for later views).
     */
    public Map<Long, long[]> counts(String tenant, long fromMs, long head) {
        Kept k = kept.get(tenant);
        boolean extend = k != null && k.fromMs() <= fromMs && k.upToSeq() <= head;
        Map<Long, long[]> byHour = new HashMap<>();
        if (extend) {
            k.byHour().forEach((h, n) -> {
                if (h >= fromMs) {
                    byHour.put(h, n.clone());
                }
            });
        }
        long after = extend ? k.upToSeq() : 0;
        if (head > after) {
            for (AuditStore.HourCount c : audit.countByHour(tenant, types, fromMs, Long.MAX_VALUE, after, head)) {
                byHour.computeIfAbsent(c.hourStartMs(), h -> new long[2])[refused.contains(c.type()) ? 1 : 0] += c.count();
            }
        }
        // two views racing: either count is exact up to its own seq; the next view extends whichever was kept
        kept.put(tenant, new Kept(fromMs, head, Map.copyOf(byHour)));
        Map<Long, long[]> out = new HashMap<>();
        byHour.forEach((h, n) -> out.put(h, n.clone()));
        return out;
    }
}
