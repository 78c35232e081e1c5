package dev.deputy.broker.health;

/**
 * A shared dependency (database, ephemeral store) cannot be reached. Rendered as 503 with the OAuth
 * error {@code temporarily_unavailable}; nothing was written half-way.
 */
public class ServiceUnavailableException extends RuntimeException {
    private final String dependency;

    public ServiceUnavailableException(String dependency, Throwable cause) {
        super(dependency + " unavailable", cause);
        this.dependency = dependency;
    }

    public String dependency() {
        return dependency;
    }
}
