package dev.deputy.broker.metrics;

import dev.deputy.broker.ephemeral.EphemeralStore;
import dev.deputy.broker.health.Drain;
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
 * {@code deputy_ready} (1 when every dependency is up and the node is not draining: what {@code /health/ready} answers
 * 200 for), {@code deputy_draining} and {@code deputy_http_requests_in_flight}. Probed at scrape time
 * (each probe is bounded to ~1 s by {@link DependencyCheck#up()}); {@code deputy_integrity_failed_rows_total}: stored
 * rows that failed their master-key MAC since the node started ({@code integrity.failed_rows} of {@code /health}).
 * The JDBC pools publish {@code hikaricp_connections_*{pool}} from here too.
 */
@Requires(bean = MeterRegistry.class)
@Context
public class DependencyMeters {
    static final String UP = "deputy.dependency.up";
    static final String READY = "deputy.ready";
    static final String DRAINING = "deputy.draining";
    static final String IN_FLIGHT = "deputy.http.requests.in.flight";
    static final String INTEGRITY = "deputy.integrity.failed.rows";

    public DependencyMeters(MeterRegistry registry, Database database, EphemeralStore ephemeral,
                            IntegrityAlarm integrity, Drain drain) {
        List<DependencyCheck> checks = List.of(database, ephemeral);
        for (DependencyCheck c : checks) {
            Gauge.builder(UP, c, x -> x.up() ? 1 : 0).tag("dependency", c.name()).tag("backend", c.backend())
                    .description("Whether the dependency answers its probe (1) or not (0)").register(registry);
        }
        Gauge.builder(READY, checks, l -> !drain.draining() && l.stream().allMatch(DependencyCheck::up) ? 1 : 0)
                .strongReference(true)
                .description("Whether the node takes traffic (every dependency up, not draining), as GET /health/ready says")
                .register(registry);
        Gauge.builder(DRAINING, drain, d -> d.draining() ? 1 : 0)
                .description("1 while the node drains after SIGTERM (readiness off, in-flight requests finishing)")
                .register(registry);
        Gauge.builder(IN_FLIGHT, drain, Drain::inFlight)
                .description("HTTP requests being served right now").register(registry);
        FunctionCounter.builder(INTEGRITY, integrity, IntegrityAlarm::failedRows)
                .description("Stored rows (keys, credentials, clients, connectors...) that failed their master-key MAC "
                        + "since the node started; each is refused, logged and audited as key.integrity_failed")
                .register(registry);
        database.bindMetrics(registry);
    }
}
