package dev.deputy.policy;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Tool and agent name globs: the one-star shapes (matched without a regex) agree with the general ones. */
class GlobTest {
    @Test
    void oneStarShapesMatchAsTheirRegexWould() {
        Glob g = new Glob(List.of("get_*", "*.read", "accounts.*.list", "überweisung_*"), "tools");
        for (String yes : List.of("get_", "get_balance", "get_*", "x.read", ".read", "accounts..list", "accounts.a.b.list",
                "überweisung_prüfen")) {
            assertTrue(g.matches(yes), yes);
        }
        for (String no : List.of("get", "Get_balance", "xget_balance", "x.reader", "read", "accounts.list",
                "accounts.x.lis", "uberweisung_x", "")) {
            assertFalse(g.matches(no), no);
        }
        assertFalse(g.matches(null));
        // the prefix and the suffix must not overlap: "ab*ba" does not match "aba"
        Glob overlap = new Glob(List.of("ab*ba"), "tools");
        assertFalse(overlap.matches("aba"));
        assertTrue(overlap.matches("abba"));
        assertTrue(overlap.matches("ab-x-ba"));
    }

    @Test
    void otherShapesStillUseTheRegexAndExactNamesTheSet() {
        Glob g = new Glob(List.of("deploy.?", "a*b*c", "transfer_funds"), "tools");
        assertTrue(g.matches("deploy.x"));
        assertFalse(g.matches("deploy.xy"));
        assertTrue(g.matches("a-b-c"));
        assertTrue(g.matches("abc"));
        assertFalse(g.matches("acb"));
        assertTrue(g.matches("transfer_funds"));
        assertFalse(g.matches("transfer_funds2"));
        assertTrue(new Glob(List.of("*"), "tools").matches("anything at all"));
    }
}
