package dev.deputy.broker.audit;

import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jwt.JWTClaimsSet;
import dev.deputy.broker.tenant.Tenant;
import dev.deputy.broker.tenant.Tenants;
import io.micronaut.context.annotation.Value;
import io.micronaut.scheduling.annotation.Scheduled;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Signed checkpoints of each tenant's chain: periodically ({@code deputy.audit.checkpoint-interval}, default
 * 2 s, when the head moved or the signing key changed), every {@code deputy.audit.checkpoint-every} entries
 * (default 10,000), and on demand. Before signing, the segment since the previous checkpoint is verified and the
 * chain is compared with its last witnessed head: the broker never signs a chain it cannot vouch for, nor one that
 * is behind or beside what it already published. Every checkpoint made is published to the {@link AuditWitness}
 * (the witness file, the HTTP sinks), so the unsigned, unwitnessed tail is the last couple of seconds.
 */
@io.micronaut.context.annotation.Context // at start: the count trigger listens from the first entry on (a lazily made
// bean only existed once the first periodic run or an export asked for it)
public class AuditCheckpoints {
    private static final Logger LOG = LoggerFactory.getLogger(AuditCheckpoints.class);

    private final AuditStore store;
    private final AuditLog log;
    private final AuditVerifier verifier;
    private final CheckpointSigner signer;
    private final Tenants tenants;
    private final AuditWitness witness;
    private final long every;
    private final Clock clock = Clock.systemUTC();
    private final Map<String, Long> lastSeq = new ConcurrentHashMap<>();
    private final Map<String, Boolean> running = new ConcurrentHashMap<>();
    /**
     * Where the count trigger's checkpoints are made: one platform thread. A checkpoint re-reads and re-hashes every
     * entry since the previous one (10,000 at the default count: ~33 µs an entry on the bench machine with the
     * indexing it does before reading, ~0.3 s of CPU); on a virtual thread it held one of the carriers that run the
     * requests' virtual threads for all that time — virtual threads are not preempted — leaving the requests one
     * carrier of two. The OS time-slices a platform thread with the carriers (docs/benchmarks.md, session 14).
     * Checkpoints are made one at a time anyway ({@link #checkpoint(String, boolean)} is synchronized).
     */
    private final ExecutorService async = Executors.newSingleThreadExecutor(
            r -> Thread.ofPlatform().daemon().name("deputy-audit-checkpoints").unstarted(r));

    public AuditCheckpoints(AuditStore store, AuditLog log, AuditVerifier verifier, CheckpointSigner signer,
                            Tenants tenants, long every) {
        this(store, log, verifier, signer, tenants, log.witness(), every);
    }

    @jakarta.inject.Inject
    public AuditCheckpoints(AuditStore store, AuditLog log, AuditVerifier verifier, CheckpointSigner signer,
                            Tenants tenants, AuditWitness witness,
                            @Value("${deputy.audit.checkpoint-every:10000}") long every) {
        this.witness = witness;
        this.store = store;
        this.log = log;
        this.verifier = verifier;
        this.signer = signer;
        this.tenants = tenants;
        this.every = every;
        if (every > 0) {
            log.addListener(this::onCommitted);
        }
    }

    /** Refused checkpoint: the segment since the last checkpoint does not verify. */
    public static final class ChainBroken extends RuntimeException {
        private final AuditVerifier.Report report;

        ChainBroken(AuditVerifier.Report report) {
            super("audit chain does not verify: " + report.message());
            this.report = report;
        }

        public AuditVerifier.Report report() {
            return report;
        }
    }

    private void onCommitted(AuditEntry last) {
        String t = last.tenantId();
        long prev = lastSeq.computeIfAbsent(t, x -> store.latestCheckpoint(x).map(AuditCheckpoint::seq).orElse(0L));
        if (last.seq() - prev >= every && signer.canSign(t) && running.putIfAbsent(t, Boolean.TRUE) == null) {
            async.execute(() -> {
                try {
                    checkpoint(t);
                } catch (RuntimeException e) {
                    LOG.warn("tenant {}: audit checkpoint failed: {}", t, e.toString());
                } finally {
                    running.remove(t);
                }
            });
        }
    }

    @Scheduled(fixedDelay = "${deputy.audit.checkpoint-interval:2s}", initialDelay = "${deputy.audit.checkpoint-interval:2s}")
    void periodic() {
        List<String> ids = new java.util.ArrayList<>(tenants.all().stream().map(Tenant::id).toList());
        ids.add(Tenants.BROKER_CHAIN); // the broker's own chain, signed by the broker key
        for (String t : ids) {
            try {
                periodic(t);
            } catch (RuntimeException e) {
                LOG.warn("tenant {}: periodic audit checkpoint failed: {}", t, e.toString());
            }
        }
    }

    /**
     * Signs every chain whose head moved since its last checkpoint (each tenant's and the broker's own), now: the
     * last step of a drain at shutdown. Returns the checkpointed head per chain; failures are logged and skipped.
     */
    public Map<String, Long> checkpointAllNow() {
        Map<String, Long> heads = new java.util.LinkedHashMap<>();
        List<String> ids = new java.util.ArrayList<>(tenants.all().stream().map(Tenant::id).toList());
        ids.add(Tenants.BROKER_CHAIN);
        for (String t : ids) {
            try {
                periodic(t);
                store.latestCheckpoint(t).ifPresent(c -> heads.put(t, c.seq()));
            } catch (RuntimeException e) {
                LOG.warn("tenant {}: audit checkpoint at shutdown failed: {}", t, e.toString());
            }
        }
        return heads;
    }

    /** The periodic step for one tenant: sign the head when it moved, or when the signing key changed. */
    Optional<AuditCheckpoint> periodic(String tenantId) {
        if (witness.refusal(tenantId).isPresent()) {
            return Optional.empty(); // refused chains are never signed again (logged once when refused)
        }
        return checkpoint(tenantId, true);
    }

    /** A checkpoint at the current head (or the existing one there). Empty when the chain is empty. */
    public Optional<AuditCheckpoint> checkpoint(String tenantId) {
        return checkpoint(tenantId, false);
    }

    /**
     * @param periodic only when the head moved since the latest checkpoint, or the signing key changed (then the
     *                 head is signed again with the new key, even when it did not move)
     */
    private synchronized Optional<AuditCheckpoint> checkpoint(String tenantId, boolean periodic) {
        witness.checkAppendable(tenantId); // a refused chain is not vouched for, not even by an existing checkpoint
        // the durable head, read once for the whole checkpoint: the decision, the witness comparison and the
        // segment's end all use it (every read of it settles the journal and holds the chain's appenders)
        AuditEntry.Head head = log.head(tenantId);
        if (head.seq() == 0) {
            return Optional.empty();
        }
        Optional<AuditCheckpoint> latest = store.latestCheckpoint(tenantId);
        // after a rotation, sign with the new key while the retired one is still published: that checkpoint
        // endorses the retired key for offline verification (see CheckpointVerifier)
        boolean sameKey = latest.isPresent() && latest.get().kid().equals(signer.activeKid(tenantId));
        if (periodic) {
            boolean moved = head.seq() > latest.map(AuditCheckpoint::seq).orElse(0L);
            boolean rotated = latest.isPresent() && !sameKey;
            if (!moved && !rotated) {
                return Optional.empty();
            }
        }
        if (latest.isPresent() && latest.get().seq() == head.seq() && (!periodic || sameKey)) {
            return latest;
        }
        return Optional.of(checkpointAt(tenantId, head.seq(), head.hash(), head.seq(), latest));
    }

    /**
     * Signs "entry seq has hash headHash" after verifying the chain from the previous checkpoint (or the
     * archive anchor / genesis) up to seq.
     */
    public synchronized AuditCheckpoint checkpointAt(String tenantId, long seq, String headHash) {
        return checkpointAt(tenantId, seq, headHash, -1, null);
    }

    /**
     * @param dbSeq  the database's head seq when the caller has just read it, else -1 (read here)
     * @param latest the latest checkpoint when the caller has just read it, else null (read here)
     */
    private AuditCheckpoint checkpointAt(String tenantId, long seq, String headHash, long dbSeq,
                                         Optional<AuditCheckpoint> latest) {
        if (!signer.canSign(tenantId)) {
            throw new IllegalArgumentException("tenant " + tenantId + " has no signing keys");
        }
        // never sign a chain that is behind or beside its witnessed head (cut, or rewritten with its checkpoints)
        witness.checkAppendable(tenantId);
        AuditWitness.Comparison wc = dbSeq < 0 ? witness.compare(tenantId, store) : witness.compare(tenantId, store, dbSeq);
        if (wc.refused()) { // logged and recorded once by the refusal listener (AuditLog)
            throw new AuditWitness.ChainRefused(tenantId, wc.kind() + ": " + wc.message());
        }
        long from = (latest != null ? latest : store.latestCheckpoint(tenantId)).filter(c -> c.seq() <= seq)
                .or(() -> store.checkpoints(tenantId, 0, seq, Integer.MAX_VALUE).stream()
                        .reduce((a, b) -> b))
                .map(AuditCheckpoint::seq).orElse(0L) + 1;
        AuditVerifier.Report r = verifier.verifyRange(tenantId, Math.min(from, seq), seq);
        if (!r.ok()) {
            throw new ChainBroken(r);
        }
        long now = clock.millis();
        List<String> keys = signer.published(tenantId).values().stream().map(CheckpointVerifier::thumbprint).sorted().toList();
        JWTClaimsSet claims = new JWTClaimsSet.Builder()
                .claim("tenant", tenantId)
                .claim("seq", seq)
                .claim("head", headHash)
                .issueTime(new Date(now))
                .claim("keys", keys)
                .build();
        CheckpointSigner.Signed s = signer.sign(tenantId, claims);
        AuditCheckpoint c = new AuditCheckpoint(tenantId, seq, headHash, now, s.kid(), s.publicJwk(), s.jws());
        if (!store.insertCheckpoint(c)) {
            // another node got there first with the same key: keep theirs (and witness it here too)
            AuditCheckpoint theirs = store.checkpointAtOrAfter(tenantId, seq).filter(x -> x.seq() == seq).orElse(c);
            witness.publish(theirs);
            return theirs;
        }
        witness.publish(c);
        lastSeq.put(tenantId, seq);
        LOG.debug("tenant {}: audit checkpoint at {} signed by {}", tenantId, seq, s.kid());
        return c;
    }

    public List<AuditCheckpoint> list(String tenantId, long fromSeq, int limit) {
        return store.checkpoints(tenantId, fromSeq, Long.MAX_VALUE, limit);
    }

    public Map<String, JWK> published(String tenantId) {
        return signer.published(tenantId);
    }
}
