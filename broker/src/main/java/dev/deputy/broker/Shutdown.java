package dev.deputy.broker;

import dev.deputy.broker.audit.AuditCheckpoints;
import dev.deputy.broker.audit.AuditStore;
import dev.deputy.broker.health.Drain;
import io.micronaut.context.ApplicationContext;
import io.micronaut.runtime.graceful.GracefulShutdownCapable;
import io.micronaut.runtime.server.EmbeddedServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * SIGTERM (and SIGINT) drain the node instead of stopping it on the spot:
 * <ol>
 * <li>readiness turns off ({@code GET /health/ready} answers 503) while the node keeps serving;</li>
 * <li>after {@code deputy.shutdown.drain-delay} (the time a load balancer needs to notice; {@code DEPUTY_DRAIN_DELAY})
 * and once no request is in flight, the listeners close and Netty finishes what it still holds;</li>
 * <li>the audit is flushed (the embedded journal indexed) and every chain whose head moved is checkpointed;</li>
 * <li>a final log line says so, and the process exits with 0.</li>
 * </ol>
 * Everything is bounded by {@code deputy.shutdown.grace-period} ({@code DEPUTY_SHUTDOWN_GRACE}, default 30 s); a
 * second signal stops at once.
 */
final class Shutdown {
    private static final Logger LOG = LoggerFactory.getLogger("dev.deputy.broker.Shutdown");

    private Shutdown() {
    }

    static void install(ApplicationContext ctx) {
        AtomicBoolean started = new AtomicBoolean();
        sun.misc.SignalHandler handler = sig -> {
            if (started.compareAndSet(false, true)) {
                Thread.ofPlatform().name("deputy-drain").start(() -> drain(ctx, sig.getName()));
            } else {
                LOG.warn("second SIG{}: stopping without waiting for the drain", sig.getName());
                Runtime.getRuntime().halt(1);
            }
        };
        for (String name : new String[]{"TERM", "INT"}) {
            try {
                // a signal the process was started with ignored (SIGINT of a background job) stays ignored
                Signal.handle(new Signal(name), handler);
            } catch (IllegalArgumentException e) {
                LOG.debug("SIG{} not handled: {}", name, e.getMessage());
            }
        }
    }

    private static void drain(ApplicationContext ctx, String signal) {
        long t0 = System.nanoTime();
        int exit = 0;
        try {
            Drain drain = ctx.getBean(Drain.class);
            Duration delay = ctx.getProperty("deputy.shutdown.drain-delay", Duration.class).orElse(Duration.ZERO);
            Duration grace = ctx.getProperty("deputy.shutdown.grace-period", Duration.class).orElse(Duration.ofSeconds(30));
            long deadline = t0 + grace.toNanos();
            drain.begin();
            LOG.info("SIG{}: draining: readiness is off, {} request(s) in flight, listeners close in {} ms or when idle",
                    signal, drain.inFlight(), delay.toMillis());
            long open = t0 + delay.toNanos();
            while ((System.nanoTime() < open || drain.inFlight() > 0) && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            int left = drain.inFlight();
            if (left > 0) {
                LOG.warn("grace period of {} s is over with {} request(s) still in flight", grace.toSeconds(), left);
            }
            EmbeddedServer server = ctx.getBean(EmbeddedServer.class);
            if (server instanceof GracefulShutdownCapable g) {
                long remaining = Math.max(1, deadline - System.nanoTime());
                try {
                    g.shutdownGracefully().toCompletableFuture().get(remaining, TimeUnit.NANOSECONDS);
                } catch (TimeoutException e) {
                    LOG.warn("HTTP listeners did not finish within the grace period");
                    exit = 1;
                }
            }
            ctx.getBean(AuditStore.class).settle();
            Map<String, Long> heads = ctx.getBean(AuditCheckpoints.class).checkpointAllNow();
            LOG.info("stopped cleanly in {} ms: requests drained ({} left), audit flushed and checkpointed {}",
                    (System.nanoTime() - t0) / 1_000_000, drain.inFlight(), heads);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            exit = 1;
        } catch (RuntimeException | java.util.concurrent.ExecutionException e) {
            LOG.error("drain failed: {}", e.toString());
            exit = 1;
        }
        try {
            ctx.stop();
        } catch (RuntimeException e) {
            LOG.warn("stop: {}", e.toString());
        }
        System.exit(exit);
    }
}
