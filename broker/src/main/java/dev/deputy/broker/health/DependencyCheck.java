package dev.deputy.broker.health;

/** A shared dependency the broker needs to serve requests (the durable store, the ephemeral store). */
public interface DependencyCheck {
    /** Short name shown by {@code /health}, e.g. {@code database}, {@code ephemeral}. */
    String name();

    /** Which backend, e.g. {@code h2}, {@code mariadb}, {@code redis}, {@code in-process}. */
    String backend();

    /** A cheap, bounded probe (at most ~1 s). */
    boolean up();
}
