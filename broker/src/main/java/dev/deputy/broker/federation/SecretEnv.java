package dev.deputy.broker.federation;

/**
 * Resolves {@code client_secret_env: NAME}: the environment variable NAME, else the JVM system property NAME
 * (for embedding and tests). The value is never logged.
 */
public final class SecretEnv {
    private SecretEnv() {
    }

    public static String get(String name) {
        if (name == null || name.isBlank()) {
            return null;
        }
        String v = System.getenv(name);
        return v != null && !v.isEmpty() ? v : System.getProperty(name);
    }
}
