package dev.deputy.broker.storage.ephemeral;

import dev.deputy.broker.health.ServiceUnavailableException;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;

/**
 * The in-process store's one-time marks ({@code jti} replay cache): a 128-bit fingerprint (the first 16 bytes of
 * SHA-256 of the key) and a deadline per mark, in open-addressing tables of primitive arrays (24 bytes a slot),
 * split in stripes so that concurrent marks rarely wait for each other.
 *
 * <p>Why not the store's map of entries: every assertion a private_key_jwt client sends stays marked until it expires
 * (up to the assertion's 5 minutes plus the clock skew), so under a steady 3,000 requests/s a million marks are live.
 * As map entries (key string, entry record, map node: ~180 bytes each) that is more than the embedded default's heap;
 * here it is 24 bytes a slot at a load of one half to three quarters (a million marks: 50 MB) and no objects for
 * the collector to trace.
 *
 * <p>Slots whose deadline has passed are reused by a later mark found on the same probe run and dropped whenever a
 * stripe is rebuilt (when it fills, or when {@link #compact} finds it mostly empty); a lookup walks past them, so a
 * probe run is never cut short.
 *
 * <p>The tables together stay within a third of the maximum heap ({@link #HEAP_SHARE}): a sustained rate of assertions
 * that would need more is refused with 503 (the assertion is not accepted, nothing is marked) instead of the node
 * running out of heap and exiting — R requests/s with T-second assertions keep R × T marks (docs/deployment.md).
 */
final class UsedMarks {
    private static final int STRIPES = 16;
    private static final int MIN_CAPACITY = 64;
    private static final int SLOT_BYTES = 24;
    /** The share of the maximum heap the marks' tables may take (the embedded default: 64 of 192 MiB). */
    static final double HEAP_SHARE = 1.0 / 3;
    private static final long ORIGIN = System.nanoTime();
    /** A table refused growth waits this long before it counts its live marks again (a scan of the whole table). */
    private static final long REBUILD_RETRY_NANOS = 1_000_000_000L;

    private final Stripe[] stripes = new Stripe[STRIPES];
    /** Slots the tables may hold together; a mark that would need more is refused (503), never an out-of-memory exit. */
    private final long budgetSlots;
    /** Slots the tables hold now (their capacities). */
    private final java.util.concurrent.atomic.AtomicLong slots = new java.util.concurrent.atomic.AtomicLong();

    /**
     * Marks within a third of the maximum heap: with 5-minute assertions, 1–2 million live marks at the embedded
     * default's 192 MiB heap (3,300–6,700 private_key_jwt requests/s sustained); beyond that a request is refused
     * with 503 rather than the node running out of heap (docs/deployment.md, "Sizing").
     */
    UsedMarks() {
        this((long) (Runtime.getRuntime().maxMemory() * HEAP_SHARE / SLOT_BYTES));
    }

    UsedMarks(long budgetSlots) {
        this.budgetSlots = Math.max(budgetSlots, (long) STRIPES * MIN_CAPACITY * 2);
        for (int i = 0; i < STRIPES; i++) {
            stripes[i] = new Stripe();
        }
        slots.addAndGet((long) STRIPES * MIN_CAPACITY);
    }

    /**
     * True for the first mark of {@code key} while it lives. Throws {@link ServiceUnavailableException} when the mark
     * would take the tables past their budget (the key is not marked: the request that brought it is refused).
     */
    boolean mark(String key, Duration ttl) {
        if (ttl.isNegative() || ttl.isZero()) {
            throw new IllegalArgumentException("ttl must be positive");
        }
        byte[] d = sha256(key);
        long hi = bytesToLong(d, 0);
        long lo = bytesToLong(d, 8);
        long now = now();
        return stripes[(int) (hi >>> 60)].mark(hi, lo, now + ttl.toNanos(), now);
    }

    /** Live marks (for tests and the store's size). */
    int size() {
        long now = now();
        int n = 0;
        for (Stripe s : stripes) {
            n += s.live(now);
        }
        return n;
    }

    /** Rebuilds stripes that are mostly expired, so memory follows the traffic down again. */
    void compact() {
        long now = now();
        for (Stripe s : stripes) {
            s.compactIfSparse(now);
        }
    }

    /** Nanoseconds since this class loaded: never 0 or less once a ttl is added, so 0 can mean "slot never used". */
    private static long now() {
        return System.nanoTime() - ORIGIN;
    }

    private static byte[] sha256(String key) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static long bytesToLong(byte[] b, int off) {
        long v = 0;
        for (int i = 0; i < 8; i++) {
            v = (v << 8) | (b[off + i] & 0xff);
        }
        return v;
    }

    /** Slots a stripe's table may grow by, or a refusal: the budget is shared by all stripes. */
    private void reserve(long more) {
        if (more <= 0) {
            slots.addAndGet(more);
            return;
        }
        long now;
        do {
            now = slots.get();
            if (now + more > budgetSlots) {
                throw overBudget();
            }
        } while (!slots.compareAndSet(now, now + more));
    }

    private ServiceUnavailableException overBudget() {
        return new ServiceUnavailableException("replay cache", new IllegalStateException(
                "the replay marks of live assertions fill their share of the heap (" + budgetSlots + " slots);"
                        + " raise -Xmx or move the ephemeral store to Redis"));
    }

    private final class Stripe {
        private long[] his = new long[MIN_CAPACITY];
        private long[] los = new long[MIN_CAPACITY];
        /** 0: never used; otherwise the mark's deadline ({@link #now()} scale), live while greater than now. */
        private long[] deadlines = new long[MIN_CAPACITY];
        /** When a growth of this table was last refused ({@link #now()} scale); its next try waits a second. */
        private long refusedAt = -REBUILD_RETRY_NANOS;
        /** Slots with a deadline (live or expired). */
        private int filled;

        synchronized boolean mark(long hi, long lo, long deadline, long now) {
            if ((filled + 1) * 4L > deadlines.length * 3L) {
                try {
                    if (now - refusedAt < REBUILD_RETRY_NANOS) {
                        throw overBudget(); // refused a moment ago: not another scan of the table per request
                    }
                    rebuild(now, 1);
                } catch (ServiceUnavailableException full) {
                    refusedAt = now;
                    if (holds(hi, lo, now)) {
                        return false; // a replay is still told apart from a new mark when there is no room
                    }
                    throw full;
                }
            }
            int mask = deadlines.length - 1;
            int i = (int) lo & mask;
            int reusable = -1;
            while (deadlines[i] != 0) {
                if (deadlines[i] <= now) {
                    if (reusable < 0) {
                        reusable = i;
                    }
                } else if (his[i] == hi && los[i] == lo) {
                    return false;
                }
                i = (i + 1) & mask;
            }
            if (reusable >= 0) {
                i = reusable;
            } else {
                filled++;
            }
            his[i] = hi;
            los[i] = lo;
            deadlines[i] = deadline;
            return true;
        }

        /** Whether a live mark of this fingerprint is in the table. */
        private boolean holds(long hi, long lo, long now) {
            int mask = deadlines.length - 1;
            for (int i = (int) lo & mask; deadlines[i] != 0; i = (i + 1) & mask) {
                if (deadlines[i] > now && his[i] == hi && los[i] == lo) {
                    return true;
                }
            }
            return false;
        }

        synchronized int live(long now) {
            int n = 0;
            for (long d : deadlines) {
                if (d > now) {
                    n++;
                }
            }
            return n;
        }

        synchronized void compactIfSparse(long now) {
            if (deadlines.length > MIN_CAPACITY && live(now) * 8L < deadlines.length) {
                rebuild(now, 0);
            }
        }

        /** Re-inserts the live marks into a table sized for them plus room ({@code extra} marks about to come). */
        private void rebuild(long now, int extra) {
            int live = live(now);
            int capacity = MIN_CAPACITY;
            while (capacity < (live + extra) * 2L) {
                capacity <<= 1;
            }
            reserve(capacity - (long) deadlines.length); // throws before anything changes when over budget
            long[] oldHi = his, oldLo = los, oldDeadlines = deadlines;
            his = new long[capacity];
            los = new long[capacity];
            deadlines = new long[capacity];
            filled = 0;
            int mask = capacity - 1;
            for (int j = 0; j < oldDeadlines.length; j++) {
                if (oldDeadlines[j] > now) {
                    int i = (int) oldLo[j] & mask;
                    while (deadlines[i] != 0) {
                        i = (i + 1) & mask;
                    }
                    his[i] = oldHi[j];
                    los[i] = oldLo[j];
                    deadlines[i] = oldDeadlines[j];
                    filled++;
                }
            }
        }
    }
}
