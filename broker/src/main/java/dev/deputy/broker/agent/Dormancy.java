package dev.deputy.broker.agent;

import java.time.Duration;

/**
 * A tenant's dormancy rule: an active agent with no activity (last token, creation or resume) for
 * {@code period} is dormant; with {@code autoSuspend} the dormancy job suspends it.
 */
public record Dormancy(Duration period, boolean autoSuspend) {
    public static final Duration DEFAULT_PERIOD = Duration.ofDays(90);
    public static final Dormancy DEFAULT = new Dormancy(DEFAULT_PERIOD, false);

    public Dormancy {
        if (period == null || period.isNegative() || period.isZero()) {
            throw new IllegalArgumentException("dormancy period must be positive");
        }
    }

    /** When the agent last showed life: its last token, else its creation; a resume restarts the clock. */
    public static long lastActivity(Agent a) {
        long t = a.lastSeenAt() != null ? a.lastSeenAt() : a.createdAt();
        if (a.status() == Agent.Status.ACTIVE && a.statusChangedAt() != null) {
            t = Math.max(t, a.statusChangedAt());
        }
        return t;
    }

    public boolean isDormant(Agent a, long now) {
        return a.status() == Agent.Status.ACTIVE && now - lastActivity(a) >= period.toMillis();
    }
}
