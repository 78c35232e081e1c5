package dev.deputy.policy;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The tool policy language: effects and their combination, each kind of condition, failing closed, explanations, errors. */
class ToolPolicyTest {
    static final String BANK = "https://bank.example.com/mcp";
    static final String POLICY = """
            tools:
              default: deny
              sensitive_arguments: [iban, payee.account]
              decision_clients: [bank-mcp]
              rules:
                - id: read-only-tools
                  effect: permit
                  tools: ["get_*", "accounts.list"]
                  servers: ["https://bank.example.com/*"]
                - id: transfers-for-finance
                  effect: permit
                  tools: [transfer_funds]
                  subject: {groups: [finance, treasury]}
                  actors: {agents: ["payments.*"], environments: [production], max_depth: 2}
                - id: large-transfers-need-approval
                  description: transfers above 10,000 need the user's approval
                  effect: require_approval
                  tools: [transfer_funds]
                  when: ["amount > 10000"]
                - id: no-sanctioned-payees
                  effect: deny
                  tools: [transfer_funds]
                  when: ["payee.country in [KP, IR]"]
                - id: office-hours-only
                  effect: deny
                  tools: [transfer_funds]
                  subject: {attributes: {department: [treasury]}}
                  time: {days: [sat, sun]}
                - id: not-from-guest-wifi
                  effect: deny
                  tools: ["*"]
                  source: ["192.168.77.0/24", "2001:db8:77::/48"]
            """;

    static ToolPolicy policy() {
        return PolicyReader.compile(Map.of("tools.yml", POLICY));
    }

    static ToolInput transfer(String user, Set<String> groups, List<ToolInput.Actor> actors, Map<String, Object> args) {
        return new ToolInput(new ToolInput.Subject("user", user, groups, Map.of("department", "treasury")), actors,
                "transfer_funds", BANK, args, Instant.parse("2026-12-07T10:00:00Z"), "10.0.0.7");
    }

    static final List<ToolInput.Actor> RECONCILER = List.of(new ToolInput.Actor("payments.settlement.reconciler", "production"));

    @Test
    void permitThenApprovalThenDenyWins() {
        ToolPolicy p = policy();
        ToolDecision small = p.decide(transfer("jonathan.christopher.williams", Set.of("finance"), RECONCILER,
                Map.of("amount", 250, "payee", Map.of("country", "DE"))));
        assertEquals(Effect.PERMIT, small.effect());
        assertEquals("transfers-for-finance", small.rule());
        assertEquals(List.of("payments.settlement.reconciler"), small.inputs().get("actors"));

        ToolDecision large = p.decide(transfer("jonathan.christopher.williams", Set.of("finance"), RECONCILER,
                Map.of("amount", 25000, "payee", Map.of("country", "DE"))));
        assertEquals(Effect.REQUIRE_APPROVAL, large.effect());
        assertEquals("large-transfers-need-approval", large.rule());
        assertEquals(25000, large.inputs().get("arguments.amount"));

        ToolDecision sanctioned = p.decide(transfer("zoë", Set.of("finance"), RECONCILER,
                Map.of("amount", 25000, "payee", Map.of("country", "KP"))));
        assertEquals(Effect.DENY, sanctioned.effect(), "deny wins over require_approval and permit");
        assertEquals("no-sanctioned-payees", sanctioned.rule());
    }

    @Test
    void noRuleMeansTheDefault() {
        ToolDecision d = policy().decide(transfer("zoë", Set.of("marketing"), RECONCILER,
                Map.of("amount", 5, "payee", Map.of("country", "DE"))));
        assertEquals(Effect.DENY, d.effect());
        assertEquals(ToolDecision.DEFAULT_RULE, d.rule());
        ToolPolicy permissive = PolicyReader.compile(Map.of("a.yml", "tools: {default: permit}"));
        assertEquals(Effect.PERMIT, permissive.decide(transfer("zoë", Set.of(), List.of(), Map.of())).effect());
        assertEquals(Effect.DENY, ToolPolicy.DENY_ALL.decide(transfer("zoë", Set.of(), List.of(), Map.of())).effect());
    }

    @Test
    void missingOrMistypedArgumentsFailClosed() {
        ToolPolicy p = policy();
        // no amount: the approval rule cannot tell, so it applies (a caller cannot dodge it by leaving amount out)
        ToolDecision none = p.decide(transfer("zoë", Set.of("finance"), RECONCILER, Map.of("payee", Map.of("country", "DE"))));
        assertEquals(Effect.REQUIRE_APPROVAL, none.effect());
        ToolDecision noPayee = p.decide(transfer("zoë", Set.of("finance"), RECONCILER, Map.of("amount", 5)));
        assertEquals("no-sanctioned-payees", noPayee.rule(), "no payee country: the sanctions rule fails closed");
        ToolDecision text = p.decide(transfer("zoë", Set.of("finance"), RECONCILER,
                Map.of("amount", "lots", "payee", Map.of("country", "DE"))));
        assertEquals(Effect.REQUIRE_APPROVAL, text.effect());
        ToolDecision numericText = p.decide(transfer("zoë", Set.of("finance"), RECONCILER,
                Map.of("amount", "20000.50", "payee", Map.of("country", "DE"))));
        assertEquals(Effect.REQUIRE_APPROVAL, numericText.effect(), "a numeric string counts as its number");
        ToolDecision exact = p.decide(transfer("zoë", Set.of("finance"), RECONCILER,
                Map.of("amount", new java.math.BigDecimal("10000.00"), "payee", Map.of("country", "DE"))));
        assertEquals(Effect.PERMIT, exact.effect(), "10000.00 is not above 10000");
    }

    @Test
    void actorChainDepthEnvironmentAndAgents() {
        ToolPolicy p = policy();
        Map<String, Object> ok = Map.of("amount", 10, "payee", Map.of("country", "DE"));
        assertEquals(Effect.DENY, p.decide(transfer("zoë", Set.of("finance"), List.of(), ok)).effect(), "no agent: no permit rule");
        assertEquals(Effect.DENY, p.decide(transfer("zoë", Set.of("finance"),
                List.of(new ToolInput.Actor("payments.settlement.reconciler", "staging")), ok)).effect());
        List<ToolInput.Actor> three = List.of(new ToolInput.Actor("a", "production"), new ToolInput.Actor("b", "production"),
                new ToolInput.Actor("payments.x", "production"));
        assertEquals(Effect.DENY, p.decide(transfer("zoë", Set.of("finance"), three, ok)).effect(), "depth 3 > max_depth 2");
        List<ToolInput.Actor> two = List.of(new ToolInput.Actor("zoë-agent", "production"),
                new ToolInput.Actor("payments.x", "production"));
        assertEquals(Effect.PERMIT, p.decide(transfer("zoë", Set.of("finance"), two, ok)).effect(), "some agent matches");
    }

    @Test
    void timeWindowsAndSourceAddresses() {
        ToolPolicy p = policy();
        ToolInput saturday = new ToolInput(new ToolInput.Subject("user", "zoë", Set.of("finance"), Map.of("department", "treasury")),
                RECONCILER, "transfer_funds", BANK, Map.of("amount", 1, "payee", Map.of("country", "DE")),
                Instant.parse("2026-12-05T10:00:00Z"), "10.0.0.7");
        assertEquals("office-hours-only", p.decide(saturday).rule());
        ToolInput guest = new ToolInput(new ToolInput.Subject("user", "zoë", Set.of(), Map.of()), List.of(), "get_balance",
                BANK, Map.of(), null, "192.168.77.12");
        assertEquals("not-from-guest-wifi", p.decide(guest).rule());
        ToolInput guest6 = new ToolInput(guest.subject(), List.of(), "get_balance", BANK, Map.of(), null, "2001:db8:77::5");
        assertEquals("not-from-guest-wifi", p.decide(guest6).rule());
        ToolInput office = new ToolInput(guest.subject(), List.of(), "get_balance", BANK, Map.of(), null, "192.168.78.12");
        assertEquals("read-only-tools", p.decide(office).rule());
        ToolInput hostname = new ToolInput(guest.subject(), List.of(), "get_balance", BANK, Map.of(), null, "evil.example");
        assertEquals("not-from-guest-wifi", p.decide(hostname).rule(), "an unreadable source fails closed in a deny rule");
        ToolPolicy wrap = PolicyReader.compile(Map.of("w.yml", """
                tools:
                  default: permit
                  rules:
                    - {id: night, effect: deny, tools: ["*"], time: {hours: "22:00-06:00", zone: Europe/Berlin}}
                """));
        assertEquals(Effect.DENY, wrap.decide(new ToolInput(guest.subject(), List.of(), "x", null, null,
                Instant.parse("2026-12-07T04:30:00Z"), null)).effect(), "05:30 in Berlin");
        assertEquals(Effect.PERMIT, wrap.decide(new ToolInput(guest.subject(), List.of(), "x", null, null,
                Instant.parse("2026-12-07T12:00:00Z"), null)).effect());
    }

    @Test
    void explanationNamesEveryRuleAndInput() {
        ToolPolicy p = policy();
        Explanation e = p.explain(transfer("jonathan.christopher.williams", Set.of("finance"), RECONCILER,
                Map.of("amount", 25000, "payee", Map.of("country", "DE"))));
        assertEquals("large-transfers-need-approval", e.decision().rule());
        assertEquals(6, e.rules().size());
        Explanation.RuleTrace sanctions = e.rules().get(3);
        assertEquals("not matched", sanctions.result());
        assertEquals(new Explanation.CheckTrace("arguments.payee.country", "DE", "payee.country in [KP, IR]", "no_match"),
                sanctions.checks().get(1));
        String text = e.render();
        assertTrue(text.contains("* large-transfers-need-approval [require_approval] matched"), text);
        assertTrue(text.contains("ok   arguments.amount = 25000  (expected amount > 10000)"), text);
    }

    @Test
    void sensitiveArgumentsAreLeftOut() {
        ToolPolicy p = policy();
        Map<String, Object> args = new LinkedHashMap<>();
        args.put("amount", 5);
        args.put("iban", "DE89370400440532013000");
        args.put("payee", Map.of("account", "secret", "country", "DE"));
        Map<String, Object> shown = p.auditArguments(args);
        assertFalse(shown.containsKey("iban"));
        assertEquals(Map.of("country", "DE"), shown.get("payee"));
        assertTrue(p.mayAsk("bank-mcp"));
        assertFalse(p.mayAsk("bank-mcp2"));
    }

    @Test
    void badFilesAreRefusedWithTheLine() {
        PolicyException e = assertThrows(PolicyException.class, () -> PolicyReader.compile(Map.of("p.yml", """
                tools:
                  rules:
                    - id: ok
                      effect: permit
                      tools: [a]
                    - id: broken
                      effect: deny
                      tools: [a]
                      when: ["amount >> 5"]
                """)));
        assertTrue(e.getMessage().startsWith("p.yml:6: rule broken"), e.getMessage());
        assertThrows(PolicyException.class, () -> PolicyReader.compile(Map.of("p.yml", "tools: {rules: [{id: x, effect: allow, tools: [a]}]}")));
        assertThrows(PolicyException.class, () -> PolicyReader.compile(Map.of("p.yml", "tools: {rules: [{id: x, effect: deny}]}")));
        assertThrows(PolicyException.class, () -> PolicyReader.compile(Map.of("p.yml", "tools: {rules: [{id: x, effect: deny, tools: [a], when: [\"amount > EUR\"]}]}")));
        assertThrows(PolicyException.class, () -> PolicyReader.compile(Map.of("p.yml", "tools: {rules: [{id: x, effect: deny, tools: [a], source: [intranet.example]}]}")));
        assertThrows(PolicyException.class, () -> PolicyReader.compile(Map.of("p.yml", "tools: {rules: [{id: x, effect: deny, tools: [a], time: {days: [someday]}}]}")));
        PolicyException unknown = assertThrows(PolicyException.class, () -> PolicyReader.compile(Map.of("p.yml", "tools:\n  rulez: []\n")));
        assertTrue(unknown.getMessage().contains("unknown key 'rulez'"), unknown.getMessage());
        assertThrows(PolicyException.class, () -> PolicyReader.compile(Map.of("a.yml", "tools: {default: deny}", "b.yml", "tools: {default: permit}")));
    }

    @Test
    void fixturesRunOffline(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("policy.yml"), POLICY);
        Path fx = dir.resolve("cases.yml");
        Files.writeString(fx, """
                policies: policy.yml
                cases:
                  - name: a large transfer needs approval
                    input:
                      subject: {id: zoë, groups: [finance]}
                      actors: [{id: payments.settlement.reconciler, environment: production}]
                      tool: transfer_funds
                      server: https://bank.example.com/mcp
                      arguments: {amount: 25000, payee: {country: DE}}
                      source: 10.1.2.3
                    expect: {effect: require_approval, rule: large-transfers-need-approval}
                  - name: wrong on purpose
                    input: {subject: {id: zoë}, tool: get_balance, server: https://bank.example.com/mcp, source: 10.1.2.3}
                    expect: deny
                """);
        List<Fixtures.CaseResult> r = Fixtures.run(fx, null);
        assertEquals(2, r.size());
        assertTrue(r.get(0).passed());
        assertFalse(r.get(1).passed());
        assertEquals("read-only-tools", r.get(1).actual().rule());
    }
}
