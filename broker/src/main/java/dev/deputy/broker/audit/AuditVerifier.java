package dev.deputy.broker.audit;

import jakarta.inject.Singleton;

import java.util.List;
import java.util.Optional;

/**
 * Walks a tenant's chain and reports the first entry that is not what the chain proves, and how:
 * <ul>
 *   <li>{@code edited}: the entry's content no longer matches its hash;</li>
 *   <li>{@code deleted}: a sequence number is missing, or an entry links to a predecessor that is gone;</li>
 *   <li>{@code inserted}: an entry sits between two that link to each other;</li>
 *   <li>{@code reordered}: an entry links to one that now sits later in the chain.</li>
 * </ul>
 */
@Singleton
public class AuditVerifier {
    private static final int PAGE = 5_000;
    private final AuditStore store;

    public AuditVerifier(AuditStore store) {
        this.store = store;
    }

    public record Report(boolean ok, long checked, long lastSeq, Long firstBadSeq, String problem, String message) {
        static Report ok(long checked, long last) {
            return new Report(true, checked, last, null, null, null);
        }

        static Report bad(long checked, long last, long seq, String problem, String message) {
            return new Report(false, checked, last, seq, problem, message);
        }
    }

    public Report verify(String tenantId) {
        return verify(tenantId, 1);
    }

    /** Verifies from {@code fromSeq}; when it is above 1, the entry before it is the trusted anchor. */
    public Report verify(String tenantId, long fromSeq) {
        long expected = Math.max(1, fromSeq);
        String prevHash = null;            // hash of the previous entry
        String prevPrevHash = null;        // hash of the one before it
        if (expected > 1) {
            List<AuditEntry> anchor = store.range(tenantId, expected - 1, 1);
            if (!anchor.isEmpty() && anchor.get(0).seq() == expected - 1) {
                prevHash = anchor.get(0).hash();
            }
        } else {
            prevHash = AuditEntry.GENESIS;
        }
        long checked = 0;
        long cursor = expected;
        while (true) {
            List<AuditEntry> page = store.range(tenantId, cursor, PAGE);
            if (page.isEmpty()) {
                return Report.ok(checked, expected - 1);
            }
            for (AuditEntry e : page) {
                if (e.seq() != expected) {
                    return Report.bad(checked, expected - 1, expected, "deleted",
                            "entries " + expected + (e.seq() - 1 > expected ? ".." + (e.seq() - 1) : "") + " are missing");
                }
                if (!e.computeHash().equals(e.hash())) {
                    return Report.bad(checked, e.seq(), e.seq(), "edited",
                            "entry " + e.seq() + "'s content does not match its hash");
                }
                if (prevHash != null && !e.prevHash().equals(prevHash)) {
                    return brokenLink(tenantId, e, prevHash, prevPrevHash, checked);
                }
                prevPrevHash = prevHash;
                prevHash = e.hash();
                expected++;
                checked++;
            }
            cursor = expected;
        }
    }

    private Report brokenLink(String tenantId, AuditEntry e, String prevHash, String prevPrevHash, long checked) {
        long k = e.seq();
        // checked first: with two neighbours swapped, the successor also links to the predecessor and
        // would otherwise pass for an insertion
        Optional<AuditEntry> linked = store.findByHash(tenantId, e.prevHash());
        if (linked.isPresent() && linked.get().seq() >= k) {
            return Report.bad(checked, k, k, "reordered", "entry " + k + " links to entry " + linked.get().seq()
                    + ", which now sits after it (reordered)");
        }
        List<AuditEntry> after = store.range(tenantId, k + 1, 1);
        if (!after.isEmpty() && after.get(0).prevHash().equals(prevHash)) {
            // its successor links straight to its predecessor: e was put in between
            return Report.bad(checked, k, k, "inserted", "entry " + k + " is not part of the chain (inserted)");
        }
        if (e.prevHash().equals(prevPrevHash)) {
            return Report.bad(checked, k - 1, k - 1, "inserted", "entry " + (k - 1) + " is not part of the chain (inserted)");
        }
        return Report.bad(checked, k, k, "deleted", "entry " + k + " links to an entry that is no longer in the chain (deleted)");
    }
}
