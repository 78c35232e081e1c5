package dev.deputy.broker.policy;

import dev.deputy.broker.config.ConfigException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.assertThrows;

class DelegationPolicyTest {
    private static final String RES = "https://mcp.example.com/billing";

    private static DelegationInput input(String agent, Set<String> groups, Set<String> scopes, int depth) {
        return new DelegationInput(agent, List.of("billing"), true, "u-1", "https://idp", "okta", groups, Set.of(),
                RES, scopes, depth);
    }

    private static DelegationPolicy load(Path dir, String yaml) throws Exception {
        Files.createDirectories(dir.resolve("policies"));
        Files.writeString(dir.resolve("policies/delegation.yml"), yaml);
        return Policies.load(dir.resolve("policies"));
    }

    @Test
    void allowRuleNarrowsScopesAndNamesItself(@TempDir Path dir) throws Exception {
        DelegationPolicy p = load(dir, """
                delegation:
                  - id: billing-for-finance
                    effect: allow
                    agents: [billing-bot]
                    users: {groups: [finance]}
                    resources: ["https://mcp.example.com/billing"]
                    scopes: ["invoice.read"]
                """);
        Decision d = p.decide(input("billing-bot", Set.of("finance"), Set.of("invoice.read", "invoice.write"), 1));
        assertTrue(d.allowed());
        assertEquals("billing-for-finance", d.ruleId());
        assertEquals(Set.of("invoice.read"), d.granted());
    }

    @Test
    void noMatchingRuleIsDefaultDeny(@TempDir Path dir) throws Exception {
        DelegationPolicy p = load(dir, """
                delegation:
                  - id: billing-for-finance
                    agents: [billing-bot]
                    users: {groups: [finance]}
                    resources: ["*"]
                    scopes: ["*"]
                """);
        Decision other = p.decide(input("other-bot", Set.of("finance"), Set.of("invoice.read"), 1));
        assertFalse(other.allowed());
        assertEquals(Decision.DEFAULT_DENY, other.ruleId());
        Decision notFinance = p.decide(input("billing-bot", Set.of("sales"), Set.of("invoice.read"), 1));
        assertFalse(notFinance.allowed());
    }

    @Test
    void denyOverridesAllow(@TempDir Path dir) throws Exception {
        DelegationPolicy p = load(dir, """
                delegation:
                  - id: everyone
                    agents: ["*"]
                    users: {all: true}
                    resources: ["*"]
                    scopes: ["*"]
                  - id: never-contractors
                    effect: deny
                    agents: ["*"]
                    users: {groups: [contractors]}
                    resources: ["*"]
                """);
        assertTrue(p.decide(input("billing-bot", Set.of(), Set.of("a"), 1)).allowed());
        Decision d = p.decide(input("billing-bot", Set.of("contractors"), Set.of("a"), 1));
        assertFalse(d.allowed());
        assertEquals("never-contractors", d.ruleId());
    }

    @Test
    void chainDepthLimitsOfTenantAndRule(@TempDir Path dir) throws Exception {
        DelegationPolicy p = load(dir, """
                max_chain_depth: 3
                delegation:
                  - id: shallow
                    agents: ["*"]
                    users: {all: true}
                    resources: ["*"]
                    scopes: ["*"]
                    max_depth: 2
                """);
        assertTrue(p.decide(input("a", Set.of(), Set.of("s"), 2)).allowed());
        assertEquals("shallow", p.decide(input("a", Set.of(), Set.of("s"), 3)).ruleId());
        assertFalse(p.decide(input("a", Set.of(), Set.of("s"), 3)).allowed());
        Decision tooDeep = p.decide(input("a", Set.of(), Set.of("s"), 4));
        assertFalse(tooDeep.allowed());
        assertEquals("max-chain-depth", tooDeep.ruleId());
    }

    @Test
    void ruleGrantingNoneOfTheRequestedScopesDenies(@TempDir Path dir) throws Exception {
        DelegationPolicy p = load(dir, """
                delegation:
                  - id: read-only
                    agents: ["*"]
                    users: {all: true}
                    resources: ["*"]
                    scopes: ["invoice.read"]
                """);
        Decision d = p.decide(input("a", Set.of(), Set.of("invoice.write"), 1));
        assertFalse(d.allowed());
        assertEquals("read-only", d.ruleId());
    }

    @Test
    void badFilesNameTheFileAndLine(@TempDir Path dir) throws Exception {
        ConfigException unknownKey = assertThrows(ConfigException.class, () -> load(dir, """
                delegation:
                  - id: x
                    agents: ["*"]
                    users: {all: true}
                    resources: ["*"]
                    colour: blue
                """));
        assertTrue(unknownKey.getMessage().contains("delegation.yml:6"), unknownKey.getMessage());
        ConfigException noUsers = assertThrows(ConfigException.class, () -> load(dir, """
                delegation:
                  - id: x
                    agents: ["*"]
                    resources: ["*"]
                """));
        assertTrue(noUsers.getMessage().contains("name the users"), noUsers.getMessage());
        ConfigException dup = assertThrows(ConfigException.class, () -> load(dir, """
                delegation:
                  - {id: x, agents: ["*"], users: {all: true}, resources: ["*"]}
                  - {id: x, agents: ["*"], users: {all: true}, resources: ["*"]}
                """));
        assertTrue(dup.getMessage().contains("duplicate rule id"), dup.getMessage());
    }
}
