package dev.deputy.broker.health;

import jakarta.inject.Singleton;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Whether this node is draining (readiness off, still serving), and how many HTTP requests it is serving right now.
 * Set by the shutdown sequence ({@code dev.deputy.broker.Shutdown}); read by {@code GET /health/ready} and the
 * request counter filter.
 */
@Singleton
public class Drain {
    private final AtomicBoolean draining = new AtomicBoolean();
    private final AtomicInteger inFlight = new AtomicInteger();

    /** Turns readiness off; true the first time only. */
    public boolean begin() {
        return draining.compareAndSet(false, true);
    }

    public boolean draining() {
        return draining.get();
    }

    public void requestStarted() {
        inFlight.incrementAndGet();
    }

    public void requestEnded() {
        inFlight.decrementAndGet();
    }

    public int inFlight() {
        return Math.max(0, inFlight.get());
    }
}
