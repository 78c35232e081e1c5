package dev.deputy.broker.http;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The tenant a request path names, for the log context: the same answer as the pattern it replaced. */
class LogContextFilterTest {
    /** The rule as a pattern: {@code /t/} then 1-64 of {@code A-Za-z0-9._-}, then {@code /} or the end. */
    private static final Pattern RULE = Pattern.compile("/t/([A-Za-z0-9._-]{1,64})(?:/|\\z)");

    private static String byPattern(String path) {
        Matcher m = RULE.matcher(path);
        return m.find() ? m.group(1) : null;
    }

    @Test
    void tenantOfPath() {
        String long64 = "a".repeat(64);
        List<String> paths = List.of("/t/demo/token", "/t/demo", "/t/acme.eu-1_x/introspect", "/t/", "/t//token",
                "/health", "/admin/t/demo/agents", "/t/dé/token", "/t/" + long64 + "/token", "/t/" + long64 + "b/token",
                "/t/" + long64, "/x/t/a b/t/ok/1", "/t/demo?x=1", "/tt/demo", "/t/de%2Fmo/token", "", "/t/a/t/b",
                "/t/" + "b".repeat(65) + "/t/second");
        for (String p : paths) {
            assertEquals(byPattern(p), LogContextFilter.tenant(p), p);
        }
        assertEquals("demo", LogContextFilter.tenant("/t/demo/token"));
        assertEquals("second", LogContextFilter.tenant("/t/" + "b".repeat(65) + "/t/second"));
    }
}
