package dev.deputy.broker.federation;

/**
 * A cookie the broker sets or clears, in domain terms; the HTTP layer turns it into a Micronaut
 * {@code Cookie} (always {@code HttpOnly}, {@code SameSite=Lax}). {@code maxAgeSeconds == 0} clears it.
 */
public record CookieSpec(String name, String value, String path, long maxAgeSeconds, boolean secure) {
    @Override
    public String toString() {
        return "CookieSpec[" + name + ", path=" + path + ", maxAge=" + maxAgeSeconds + "]";
    }
}
