package dev.deputy.policy;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** The one typo rule of the broker's config messages and `deputy validate`. */
class NearestNameTest {
    @Test
    void typosWithinTheLimitAreNamedGuessesAreNot() {
        assertEquals("role_mapping", NearestName.nearest("rol_mapping", List.of("role_mapping", "scopes", "claims")));
        assertEquals("scopes", NearestName.nearest("scpoes", List.of("role_mapping", "scopes")), "a swap is one edit");
        assertEquals("display_name", NearestName.nearest("dispaly_name", List.of("display_name", "dormancy")));
        assertEquals("Tenant", NearestName.nearest("tenant", List.of("Tenant")), "case differs only");
        assertNull(NearestName.nearest("flavour", List.of("name", "owner")));
        assertNull(NearestName.nearest("roles", List.of("roles")), "a known name is no typo");
        assertNull(NearestName.nearest("abc", List.of("xyz")), "3 edits in a short name is a guess");
        assertEquals("tool_reports", NearestName.nearest("tool_report", List.of("tool_reports", "anomaly")));
        assertEquals(" (did you mean 'überweisung'?)", NearestName.suggest("überwiesung", List.of("überweisung")));
        assertEquals("", NearestName.suggest("zoë", List.of()));
    }
}
