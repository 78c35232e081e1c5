package dev.deputy.broker.metrics;

import dev.deputy.broker.audit.AuditCheckpoint;
import dev.deputy.broker.audit.AuditEntry;
import dev.deputy.broker.audit.AuditLog;
import dev.deputy.broker.audit.AuditStore;
import dev.deputy.broker.audit.AuditWitness;
import dev.deputy.broker.tenant.Tenant;
import dev.deputy.broker.tenant.Tenants;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micronaut.context.annotation.Requires;
import io.micrometer.core.instrument.Timer;
import io.micronaut.context.annotation.Context;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The audit trail's meters, per tenant (the broker's own chain is tenant {@code _broker}):
 * <ul>
 *   <li>{@code deputy_audit_append_seconds} — what an appender waits for its events to be durable (queue + commit)</li>
 *   <li>{@code deputy_audit_batch_commit_seconds}, {@code deputy_audit_batch_size} — the group commit</li>
 *   <li>{@code deputy_audit_write_failures_total} — events that could not be written (the request failed with them)</li>
 *   <li>{@code deputy_audit_checkpoint_lag_entries}, {@code deputy_audit_checkpoint_lag_seconds} — how far the chain
 *       runs ahead of its latest signed checkpoint, read from the durable store (so they hold across nodes) at most
 *       every {@value #SNAPSHOT_MS} ms</li>
 *   <li>{@code deputy_audit_witness_lag_seconds{sink}}, {@code deputy_audit_witness_pending{sink}},
 *       {@code deputy_audit_witness_delivered_total{sink}} — each HTTP witness sink ({@code sink} is its host and
 *       port only: a sink URL may carry a credential in its path or query)</li>
 *   <li>{@code deputy_audit_chains_refused} — chains behind or diverging from their witness (appends answer 503)</li>
 * </ul>
 */
@Requires(bean = MeterRegistry.class)
@Context
public class AuditMeters implements AuditLog.Observer {
    private static final Logger LOG = LoggerFactory.getLogger(AuditMeters.class);
    static final String APPEND = "deputy.audit.append";
    static final String BATCH_COMMIT = "deputy.audit.batch.commit";
    static final String BATCH_SIZE = "deputy.audit.batch.size";
    static final String FAILURES = "deputy.audit.write.failures";
    static final String LAG_ENTRIES = "deputy.audit.checkpoint.lag.entries";
    static final String LAG_SECONDS = "deputy.audit.checkpoint.lag.seconds";
    static final String WITNESS_LAG = "deputy.audit.witness.lag.seconds";
    static final String WITNESS_PENDING = "deputy.audit.witness.pending";
    static final String WITNESS_DELIVERED = "deputy.audit.witness.delivered";
    static final String CHAINS_REFUSED = "deputy.audit.chains.refused";
    private static final long SNAPSHOT_MS = 5_000;

    private final MeterRegistry registry;
    private final AuditStore store;
    private final Clock clock;
    private final long startedMs;
    private final Map<String, PerTenant> tenants = new ConcurrentHashMap<>();

    public AuditMeters(MeterRegistry registry, AuditLog log, AuditStore store, Tenants tenants, AuditWitness witness) {
        this(registry, log, store, tenants, witness, Clock.systemUTC());
    }

    AuditMeters(MeterRegistry registry, AuditLog log, AuditStore store, Tenants tenants, AuditWitness witness,
                Clock clock) {
        this.registry = registry;
        this.store = store;
        this.clock = clock;
        this.startedMs = clock.millis();
        for (Tenant t : tenants.all()) {
            tenant(t.id());
        }
        tenant(Tenants.BROKER_CHAIN);
        log.observe(this);
        witness(witness);
    }

    private void witness(AuditWitness witness) {
        Gauge.builder(CHAINS_REFUSED, witness, w -> w.refusals().size())
                .description("Audit chains refused for being behind or diverging from their witness (appends answer 503)")
                .register(registry);
        var sinks = witness.status();
        for (int i = 0; i < sinks.size(); i++) {
            final int n = i;
            String sink = sinkLabel(sinks.get(i).url(), i);
            Gauge.builder(WITNESS_LAG, witness, w -> w.status().get(n).lagMs() / 1000.0).tag("sink", sink)
                    .description("Seconds the oldest undelivered checkpoint has waited for this witness sink (0: none waits)")
                    .register(registry);
            Gauge.builder(WITNESS_PENDING, witness, w -> w.status().get(n).pending()).tag("sink", sink)
                    .description("Checkpoints waiting for delivery to this witness sink").register(registry);
            FunctionCounter.builder(WITNESS_DELIVERED, witness, w -> w.status().get(n).delivered()).tag("sink", sink)
                    .description("Checkpoints delivered to this witness sink").register(registry);
        }
    }

    /** Host and port of a sink URL, never its path, query or user info; numbered when two sinks share a host. */
    static String sinkLabel(String url, int index) {
        java.net.URI u = java.net.URI.create(url);
        String host = u.getHost() == null ? "sink" : u.getHost();
        return (index + 1) + ":" + host + (u.getPort() > 0 ? ":" + u.getPort() : "");
    }

    /** The meters of one tenant's chain, registered once. */
    private final class PerTenant {
        final String tenant;
        final Timer append;
        final Timer commit;
        final DistributionSummary batch;
        final Counter failures;
        volatile Lag lag = new Lag(0, 0, 0);

        PerTenant(String tenant) {
            this.tenant = tenant;
            append = Timer.builder(APPEND).tag("tenant", tenant)
                    .description("Time an appender waits until its audit events are durable (queue and commit)")
                    .register(registry);
            commit = Timer.builder(BATCH_COMMIT).tag("tenant", tenant)
                    .description("Time to commit one audit batch").register(registry);
            batch = DistributionSummary.builder(BATCH_SIZE).tag("tenant", tenant)
                    .description("Audit entries per committed batch (group commit)").register(registry);
            failures = Counter.builder(FAILURES).tag("tenant", tenant)
                    .description("Audit events that could not be written (their requests failed)").register(registry);
            Gauge.builder(LAG_ENTRIES, this, p -> p.lag().entries()).tag("tenant", tenant)
                    .description("Entries appended after the latest signed checkpoint").register(registry);
            Gauge.builder(LAG_SECONDS, this, p -> p.lag().seconds()).tag("tenant", tenant)
                    .description("Seconds since the latest signed checkpoint while entries wait for one (0 when none wait)")
                    .register(registry);
        }

        Lag lag() {
            Lag l = lag;
            long now = clock.millis();
            if (now - l.atMs() < SNAPSHOT_MS && l.atMs() != 0) {
                return l;
            }
            try {
                long head = store.head(tenant).map(AuditEntry::seq).orElse(0L);
                Optional<AuditCheckpoint> cp = store.latestCheckpoint(tenant);
                long entries = Math.max(0, head - cp.map(AuditCheckpoint::seq).orElse(0L));
                // with no checkpoint yet, the first periodic one is due an interval after the start
                double seconds = entries == 0 ? 0 : (now - cp.map(AuditCheckpoint::atMs).orElse(startedMs)) / 1000.0;
                l = new Lag(entries, Math.max(0, seconds), now);
            } catch (RuntimeException e) {
                // the store is away: keep the last figures (the dependency gauges say why)
                LOG.debug("audit lag of {} not read: {}", tenant, e.toString());
                l = new Lag(l.entries(), l.seconds(), now);
            }
            lag = l;
            return l;
        }
    }

    private record Lag(long entries, double seconds, long atMs) {
    }

    private PerTenant tenant(String id) {
        return tenants.computeIfAbsent(id, PerTenant::new);
    }

    @Override
    public void appended(String tenantId, int events, long nanos) {
        tenant(tenantId).append.record(nanos, TimeUnit.NANOSECONDS);
    }

    @Override
    public void batchCommitted(String tenantId, int entries, long nanos) {
        PerTenant p = tenant(tenantId);
        p.commit.record(nanos, TimeUnit.NANOSECONDS);
        p.batch.record(entries);
    }

    @Override
    public void failed(String tenantId, int entries) {
        tenant(tenantId).failures.increment(entries);
    }
}
