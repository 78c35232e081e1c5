package dev.deputy.policy;

/**
 * A condition's result. {@code UNDETERMINED}: the input it needs is missing or of the wrong kind (an argument absent,
 * {@code "lots"} where a number is compared, no time or source given). A deny or require_approval rule treats it as a
 * match (fail closed: leaving out {@code amount} must not dodge {@code amount > 10000}); a permit rule as no match.
 */
public enum Outcome {
    MATCH, NO_MATCH, UNDETERMINED;

    public String value() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
