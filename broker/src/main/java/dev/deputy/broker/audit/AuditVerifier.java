package dev.deputy.broker.audit;

import jakarta.inject.Inject;
import jakarta.inject.Singleton;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Walks a tenant's chain and its signed checkpoints and reports the first entry that is not what the chain
 * proves, and how:
 * <ul>
 *   <li>{@code edited}: the entry's content no longer matches its hash;</li>
 *   <li>{@code deleted}: a sequence number is missing, or an entry links to a predecessor that is gone;</li>
 *   <li>{@code inserted}: an entry sits between two that link to each other;</li>
 *   <li>{@code reordered}: an entry links to one that now sits later in the chain;</li>
 *   <li>{@code checkpoint_mismatch}: the chain links up but an entry's hash differs from the one a signed
 *       checkpoint recorded (the chain was rewritten and re-hashed);</li>
 *   <li>{@code truncated}: a signed checkpoint names an entry beyond the end of the chain (the tail was cut);</li>
 *   <li>{@code checkpoint_signature}: a checkpoint does not verify against the tenant's keys.</li>
 * </ul>
 * A chain whose start was archived verifies from the archive marker, whose hash a signed checkpoint backs.
 */
@Singleton
public class AuditVerifier {
    private final AuditStore store;
    private final CheckpointSigner keys;

    public AuditVerifier(AuditStore store) {
        this(store, null);
    }

    @Inject
    public AuditVerifier(AuditStore store, CheckpointSigner keys) {
        this.store = store;
        this.keys = keys;
    }

    /**
     * @param anchor how the first checked entry's predecessor is trusted: {@code genesis}, {@code checkpoint}
     *               (a signed checkpoint at from-1), {@code archive} (an archive marker backed by a signed
     *               checkpoint), {@code entry} (the stored entry before from, not independently proven) or
     *               {@code none}
     */
    public record Report(boolean ok, long checked, long lastSeq, Long firstBadSeq, String problem, String message,
                         long fromSeq, String anchor, int checkpointsVerified, Long latestCheckpointSeq) {
    }

    public Report verify(String tenantId) {
        return verify(tenantId, 1);
    }

    /** Entries after the last signed checkpoint: linked by hashes, but neither signed nor witnessed yet. */
    public record Tail(long fromSeq, long toSeq, long entries, long oldestAgeMs) {
    }

    /** The unsigned tail of the chain (empty when the head is covered by a checkpoint, or the chain is empty). */
    public Optional<Tail> unsignedTail(String tenantId) {
        Optional<AuditEntry> head = store.head(tenantId);
        if (head.isEmpty()) {
            return Optional.empty();
        }
        long signed = store.latestCheckpoint(tenantId).map(AuditCheckpoint::seq).orElse(0L);
        long last = head.get().seq();
        if (last <= signed) {
            return Optional.empty();
        }
        List<AuditEntry> first = store.range(tenantId, signed + 1, 1);
        long age = first.isEmpty() ? 0 : Math.max(0, System.currentTimeMillis() - first.get(0).atMs());
        return Optional.of(new Tail(signed + 1, last, last - signed, age));
    }

    /** Verifies from {@code fromSeq} to the end of the chain. */
    public Report verify(String tenantId, long fromSeq) {
        return verifyRange(tenantId, fromSeq, Long.MAX_VALUE);
    }

    private static final class Walk {
        long expected;
        String prevHash;
        String prevPrevHash;
        long checked;
        AuditEntry bad;
        String problem;
        String message;
        Long badSeq;
    }

    public Report verifyRange(String tenantId, long fromSeq, long toSeq) {
        long s = Math.max(1, fromSeq);
        Optional<Long> first = store.firstSeq(tenantId);
        List<AuditArchive> archives = store.archives(tenantId);
        long archivedTo = archives.stream().mapToLong(AuditArchive::toSeq).max().orElse(0L);
        if (s <= archivedTo) {
            s = archivedTo + 1;
        }
        final long start = s;

        // signed checkpoints from the anchor on (newer ones may endorse older keys)
        List<AuditCheckpoint> cps = store.checkpoints(tenantId, start - 1, Long.MAX_VALUE, Integer.MAX_VALUE);
        int cpVerified = 0;
        Long latestCp = cps.isEmpty() ? null : cps.get(cps.size() - 1).seq();
        if (!cps.isEmpty()) {
            CheckpointVerifier.Result r = CheckpointVerifier.verify(tenantId, cps,
                    keys == null ? List.of() : keys.published(tenantId).values());
            if (!r.ok()) {
                Map.Entry<Long, String> p = r.problems().entrySet().iterator().next();
                return new Report(false, 0, start - 1, p.getKey(), "checkpoint_signature", p.getValue(), start, null,
                        r.verified(), latestCp);
            }
            cpVerified = r.verified();
        }
        Map<Long, String> cpHead = new HashMap<>();
        for (AuditCheckpoint c : cps) {
            String other = cpHead.putIfAbsent(c.seq(), c.headHash());
            if (other != null && !other.equals(c.headHash())) {
                return new Report(false, 0, start - 1, c.seq(), "checkpoint_mismatch",
                        "two signed checkpoints disagree about entry " + c.seq(), start, null, cpVerified, latestCp);
            }
        }

        // the anchor: what the entry before `start` hashed to
        String anchorHash;
        String anchor;
        if (start == 1) {
            anchorHash = AuditEntry.GENESIS;
            anchor = "genesis";
        } else {
            final long before = start - 1;
            Optional<AuditArchive> arch = archives.stream().filter(a -> a.toSeq() == before).findFirst();
            if (arch.isPresent()) {
                anchorHash = arch.get().toHash();
                String signed = cpHead.get(before);
                if (signed == null || !signed.equals(anchorHash)) {
                    return new Report(false, 0, before, before, "checkpoint_mismatch", "archive marker at " + before
                            + " is not backed by a signed checkpoint with the same hash", start, "archive", cpVerified, latestCp);
                }
                anchor = "archive";
            } else if (cpHead.containsKey(before)) {
                anchorHash = cpHead.get(before);
                anchor = "checkpoint";
            } else {
                List<AuditEntry> prev = store.range(tenantId, before, 1);
                if (!prev.isEmpty() && prev.get(0).seq() == before) {
                    anchorHash = prev.get(0).hash();
                    anchor = "entry";
                } else {
                    anchorHash = null;
                    anchor = "none";
                }
            }
        }
        if (first.isPresent() && first.get() > start && start <= toSeq) {
            long missingTo = Math.min(first.get() - 1, toSeq);
            return new Report(false, 0, start - 1, start, "deleted", "entries " + start
                    + (missingTo > start ? ".." + missingTo : "") + " are missing and no archive marker covers them",
                    start, anchor, cpVerified, latestCp);
        }

        Walk w = new Walk();
        w.expected = start;
        w.prevHash = anchorHash;
        store.scan(tenantId, start, toSeq, e -> {
            if (e.seq() != w.expected) {
                w.badSeq = w.expected;
                w.problem = "deleted";
                w.message = "entries " + w.expected + (e.seq() - 1 > w.expected ? ".." + (e.seq() - 1) : "") + " are missing";
                return false;
            }
            if (!e.hashMatches()) {
                w.badSeq = e.seq();
                w.problem = "edited";
                w.message = "entry " + e.seq() + "'s content does not match its hash (edited)";
                return false;
            }
            if (w.prevHash != null && !e.prevHash().equals(w.prevHash)) {
                w.bad = e;
                return false;
            }
            String signed = cpHead.get(e.seq());
            if (signed != null && !signed.equals(e.hash())) {
                w.badSeq = e.seq();
                w.problem = "checkpoint_mismatch";
                w.message = "entry " + e.seq() + " is not the entry the signed checkpoint at " + e.seq()
                        + " recorded: the chain was rewritten at or before it";
                return false;
            }
            w.prevPrevHash = w.prevHash;
            w.prevHash = e.hash();
            w.expected++;
            w.checked++;
            return true;
        });
        if (w.bad != null) {
            Report r = brokenLink(tenantId, w.bad, w.prevHash, w.prevPrevHash);
            return new Report(false, w.checked, r.lastSeq(), r.firstBadSeq(), r.problem(), r.message(), start, anchor,
                    cpVerified, latestCp);
        }
        if (w.problem != null) {
            return new Report(false, w.checked, w.expected - 1, w.badSeq, w.problem, w.message, start, anchor,
                    cpVerified, latestCp);
        }
        long last = w.expected - 1;
        for (AuditCheckpoint c : cps) {
            if (c.seq() > last && c.seq() <= toSeq) {
                return new Report(false, w.checked, last, last + 1, "truncated", "a signed checkpoint records entry "
                        + c.seq() + " but the chain ends at " + last + ": entries " + (last + 1) + ".." + c.seq()
                        + " were removed", start, anchor, cpVerified, latestCp);
            }
        }
        return new Report(true, w.checked, last, null, null, null, start, anchor, cpVerified, latestCp);
    }

    private Report brokenLink(String tenantId, AuditEntry e, String prevHash, String prevPrevHash) {
        long k = e.seq();
        Optional<AuditEntry> linked = store.findByHash(tenantId, e.prevHash());
        if (linked.isPresent() && linked.get().seq() >= k) {
            return bad(k, k, "reordered", "entry " + k + " links to entry " + linked.get().seq()
                    + ", which now sits after it (reordered)");
        }
        List<AuditEntry> after = store.range(tenantId, k + 1, 1);
        if (!after.isEmpty() && after.get(0).prevHash().equals(prevHash)) {
            // its successor links straight to its predecessor: e was put in between
            return bad(k, k, "inserted", "entry " + k + " is not part of the chain (inserted)");
        }
        if (e.prevHash().equals(prevPrevHash)) {
            return bad(k - 1, k - 1, "inserted", "entry " + (k - 1) + " is not part of the chain (inserted)");
        }
        return bad(k, k, "deleted", "entry " + k + " links to an entry that is no longer in the chain"
                + " (deleted, or replaced and re-hashed)");
    }

    private static Report bad(long last, long seq, String problem, String message) {
        return new Report(false, 0, last, seq, problem, message, 0, null, 0, null);
    }
}
