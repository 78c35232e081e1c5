package dev.deputy.broker.metrics;

import dev.deputy.broker.ephemeral.EphemeralStore;
import dev.deputy.broker.health.DependencyCheck;
import dev.deputy.broker.storage.Database;
import dev.deputy.broker.keys.IntegrityAlarm;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micronaut.context.annotation.Requires;
import io.micronaut.context.annotation.Context;

import java.util.List;

/**
 * {@code deputy_dependency_up{dependency,backend}} (1 up, 0 down) for the durable and the ephemeral store, and
 * {@code deputy_ready} (1 when every dependency is up: what {@code /health} answers 200 for). Probed at scrape time
 * (each probe is bounded to ~1 s by {@link DependencyCheck#up()}); {@code deputy_integrity_failed_rows_total}: stored
 * rows that failed their master-key MAC since the node started ({@code integrity.failed_rows} of {@code /health}).
 * The JDBC pools publish {@code hikaricp_connections_*{pool}} from here too.
 */
@Requires(bean = MeterRegistry.class)
@Context
public class DependencyMeters {
    static final String UP = "deputy.dependency.up";
    static final String READY = "deputy.ready";
    static final String INTEGRITY = "deputy.integrity.failed.rows";

    public DependencyMeters(MeterRegistry registry, Database database, EphemeralStore ephemeral,
                            IntegrityAlarm integrity) {
        List<DependencyCheck> checks = List.of(database, ephemeral);
        for (DependencyCheck c : checks) {
            Gauge.builder(UP, c, x -> x.up() ? 1 : 0).tag("dependency", c.name()).tag("backend", c.backend())
                    .description("Whether the dependency answers its probe (1) or not (0)").register(registry);
        }
        Gauge.builder(READY, checks, l -> l.stream().allMatch(DependencyCheck::up) ? 1 : 0).strongReference(true)
                .description("Whether the node can serve (every dependency up), as GET /health reports it")
                .register(registry);
        FunctionCounter.builder(INTEGRITY, integrity, IntegrityAlarm::failedRows)
                .description("Stored rows (keys, credentials, clients, connectors...) that failed their master-key MAC "
                        + "since the node started; each is refused, logged and audited as key.integrity_failed")
                .register(registry);
        database.bindMetrics(registry);
    }
}
