package dev.deputy.broker.support;

import io.micronaut.http.filter.FilterPatternStyle;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The filters' regular expressions match exactly the paths the ANT patterns they replaced matched, as Micronaut's own
 * matchers decide it, over paths real requests bring (dotted and unicode tenant and agent names, look-alike prefixes,
 * trailing slashes, encoded characters).
 */
class FilterPathsTest {
    static final List<String> PATHS = List.of("/", "", "/admin", "/admin/", "/admin/t/demo/agents",
            "/admin/t/demo/agents/payments.settlement.reconciler", "/administrator", "/admin.json", "/adminx/y",
            "/console", "/console/", "/console/t/demo/agents/jonathan.christopher.williams", "/consoles", "/console.css",
            "/t/demo/token", "/t/demo/access/v1/evaluation", "/t/zoë-müller/jwks.json", "/.well-known/openid-configuration/t/demo",
            "/t/admin/token", "/t/console", "/health", "/health/ready", "/prometheus", "/admin/t/a%2Fb/agents",
            "/t/demo/agents/a b/credentials", "//admin", "/ADMIN", "/static/console/app.js",
            "// console/x", "/ admin", "/admin ", "/admin /x", "/\tadmin/t/demo", "/admin\u0000", "///admin//whoami",
            "/console\u0085", "/\u00a0admin", "admin", " /admin", "/adm in", "/admin/\nx", "/t/demo\r\n/token");

    static boolean ant(String path, String... patterns) {
        for (String p : patterns) {
            if (FilterPatternStyle.ANT.getPathMatcher().matches(p, path)) {
                return true;
            }
        }
        return false;
    }

    static boolean regex(String pattern, String path) {
        return FilterPatternStyle.REGEX.getPathMatcher().matches(pattern, path);
    }

    @Test
    void eachRegexMatchesWhatItsAntPatternsMatched() {
        for (String path : PATHS) {
            assertEquals(ant(path, "/admin", "/admin/**"), regex(FilterPaths.ADMIN, path), "ADMIN on " + path);
            assertEquals(ant(path, "/console", "/console/**"), regex(FilterPaths.CONSOLE, path), "CONSOLE on " + path);
            assertEquals(ant(path, "/admin", "/admin/**", "/console", "/console/**"),
                    regex(FilterPaths.ADMIN_AND_CONSOLE, path), "ADMIN_AND_CONSOLE on " + path);
        }
    }

    @Test
    void theAdminTreeIsNotAPrefixMatch() {
        assertTrue(regex(FilterPaths.ADMIN_AND_CONSOLE, "/admin/whoami"));
        assertFalse(regex(FilterPaths.ADMIN_AND_CONSOLE, "/administrator"), "a look-alike path is not the admin API");
        assertFalse(regex(FilterPaths.ADMIN_AND_CONSOLE, "/t/demo/token"), "protocol endpoints never meet the security filter");
    }
}
