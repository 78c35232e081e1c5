package dev.deputy.broker.metrics;

import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import java.util.concurrent.TimeUnit;

/**
 * The meters a token request touches (the issued counter with its label mapping, the route timer, the audit append
 * timer), with the broker's bucket filter, timed in a loop on one thread: docs/benchmarks.md, "Metrics". Not a test;
 * run it by hand (the command is in that section).
 */
public final class MeterCostBench {
    private MeterCostBench() {
    }

    public static void main(String[] args) {
        PrometheusMeterRegistry reg = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        reg.config().meterFilter(new MeterSetup().buckets());
        TokenMeters tokens = new TokenMeters(reg);
        Timer route = Timer.builder(HttpServerMeters.NAME).tag("method", "POST").tag("uri", "/t/{tenant}/token")
                .tag("status", "200").register(reg);
        Timer audit = Timer.builder(AuditMeters.APPEND).tag("tenant", "demo").register(reg);
        // fresh strings, as a request's parameters are
        String tenant = new String("demo");
        String grant = new String("client_credentials");
        String method = new String("private_key_jwt");
        int n = 5_000_000;
        for (int round = 0; round < 5; round++) {
            long t0 = System.nanoTime();
            for (int i = 0; i < n; i++) {
                tokens.issued(tenant, grant, method);
                route.record(i & 0xFFFFF, TimeUnit.NANOSECONDS);
                audit.record(i & 0xFFFFF, TimeUnit.NANOSECONDS);
            }
            System.out.printf("round %d: %.0f ns per token request's meters (counter + 2 timers)%n", round,
                    (System.nanoTime() - t0) / (double) n);
        }
    }
}
