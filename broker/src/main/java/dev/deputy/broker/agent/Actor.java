package dev.deputy.broker.agent;

/**
 * Who made a change, for the audit trail: an admin (by the name of its admin credential), the config
 * apply engine, or the broker itself (the dormancy job).
 */
public record Actor(Type type, String id) {
    public enum Type { ADMIN, CONFIG, SYSTEM }

    public static final Actor CONFIG = new Actor(Type.CONFIG, "config");
    public static final Actor DORMANCY = new Actor(Type.SYSTEM, "dormancy");

    public Actor {
        if (type == null || id == null || id.isBlank()) {
            throw new IllegalArgumentException("actor type and id are required");
        }
    }

    public static Actor admin(String name) {
        return new Actor(Type.ADMIN, name);
    }

    /** {@code admin:<name>}, {@code config} or {@code system:<job>}. */
    public String label() {
        return switch (type) {
            case ADMIN -> "admin:" + id;
            case CONFIG -> "config";
            case SYSTEM -> "system:" + id;
        };
    }
}
