package dev.deputy.broker.support;

/**
 * The path patterns of the admin API's and the console's HTTP filters, as regular expressions
 * ({@code FilterPatternStyle.REGEX}). Micronaut matches these filters' patterns against every request's path (only a
 * filter on {@code /**} is skipped: it always applies); an ANT pattern ({@code /admin/**}) is split into tokens again on
 * each request (with the path), ~0.5 KB per pattern and request, while a regular expression
 * is compiled once and only run ({@code (?s)}: a path may hold any character, line terminators too). Each constant
 * matches what the ANT patterns it replaced matched (FilterPathsTest).
 */
public final class FilterPaths {
    /**
     * What an ANT pattern lets through before and after a segment: it splits the path on {@code /}, drops empty
     * segments and trims each one ({@code //admin} and {@code / admin } are {@code /admin} to it). The security
     * filter's pattern must keep matching those, whatever the router makes of them.
     */
    private static final String TRIM = "[\\x00-\\x20]*";
    private static final String SEP = "[/\\x00-\\x20]*";
    /** The admin API: {@code /admin} and below (was {@code /admin}, {@code /admin/**}). */
    public static final String ADMIN = "(?s)/" + SEP + "admin" + TRIM + "(?:/.*)?";
    /** The console: {@code /console} and below (was {@code /console}, {@code /console/**}). */
    public static final String CONSOLE = "(?s)/" + SEP + "console" + TRIM + "(?:/.*)?";
    /** The admin API and the console. */
    public static final String ADMIN_AND_CONSOLE = "(?s)/" + SEP + "(?:admin|console)" + TRIM + "(?:/.*)?";

    private FilterPaths() {
    }
}
