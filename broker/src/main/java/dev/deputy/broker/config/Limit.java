package dev.deputy.broker.config;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;

import java.time.Duration;

/**
 * One rate: at most {@code requests} per {@code period}, as a token bucket of that capacity refilled greedily
 * (Bucket4j {@code refillGreedy}: one token every {@code period / requests}). Written {@code "<requests>/<period>"}
 * in the config files ({@code 300/1m}, {@code 5000/1s}, {@code 30/1h}); {@code off} (or {@code 0}) turns it off.
 */
public record Limit(long requests, Duration period) {
    public static final Limit OFF = new Limit(0, Duration.ofSeconds(1));
    static final long MAX_REQUESTS = 1_000_000_000L;

    public Limit {
        if (requests < 0 || requests > MAX_REQUESTS) {
            throw new IllegalArgumentException("a rate limit's request count must be between 0 and " + MAX_REQUESTS);
        }
        if (period == null || period.compareTo(Duration.ofSeconds(1)) < 0 || period.compareTo(Duration.ofDays(1)) > 0
                || period.toMillis() % 1000 != 0) {
            throw new IllegalArgumentException("a rate limit's period must be whole seconds, from 1s to 1d");
        }
    }

    /** Parses {@code <requests>/<period>} or {@code off}. */
    @JsonCreator(mode = JsonCreator.Mode.DELEGATING)
    public static Limit parse(String text) {
        if (text == null) {
            throw new IllegalArgumentException("a rate limit is '<requests>/<period>' (e.g. 300/1m) or 'off'");
        }
        String t = text.strip();
        if (t.equalsIgnoreCase("off") || t.equals("0")) {
            return OFF;
        }
        int slash = t.indexOf('/');
        if (slash <= 0 || slash == t.length() - 1) {
            throw new IllegalArgumentException("rate limit '" + text + "': expected '<requests>/<period>' (e.g. 300/1m) or 'off'");
        }
        long n;
        try {
            n = Long.parseLong(t.substring(0, slash).strip());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("rate limit '" + text + "': the request count is not a number");
        }
        Duration period;
        try {
            period = DurationDeserializer.parse(t.substring(slash + 1).strip());
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("rate limit '" + text + "': the period is not a duration (30s, 1m, 1h)");
        }
        return new Limit(n, period);
    }

    /** {@code 0} in YAML: off. */
    @JsonCreator(mode = JsonCreator.Mode.DELEGATING)
    static Limit fromNumber(long n) {
        if (n != 0) {
            throw new IllegalArgumentException("a rate limit is '<requests>/<period>' (e.g. " + n + "/1m) or 'off'");
        }
        return OFF;
    }

    /** Unquoted {@code off} (or {@code false}) is a YAML boolean: off. */
    @JsonCreator(mode = JsonCreator.Mode.DELEGATING)
    static Limit fromBoolean(boolean on) {
        if (on) {
            throw new IllegalArgumentException("a rate limit is '<requests>/<period>' (e.g. 300/1m) or 'off'");
        }
        return OFF;
    }

    public static Limit of(long requests, Duration period) {
        return requests == 0 ? OFF : new Limit(requests, period);
    }

    public boolean on() {
        return requests > 0;
    }

    /** The written form, also part of the bucket key (a changed limit starts a fresh bucket). */
    @JsonValue
    @Override
    public String toString() {
        if (!on()) {
            return "off";
        }
        long s = period.toSeconds();
        String p = s % 3600 == 0 ? s / 3600 + "h" : s % 60 == 0 ? s / 60 + "m" : s + "s";
        return requests + "/" + p;
    }
}
