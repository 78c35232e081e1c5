package dev.deputy.broker.governance;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.deputy.broker.agent.Agent;
import dev.deputy.broker.audit.AuditEvent;
import dev.deputy.broker.audit.AuditEvent.Outcome;
import dev.deputy.broker.audit.AuditLog;
import dev.deputy.broker.audit.EventTypes;
import dev.deputy.broker.oauth.AgentTestBroker;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The least-privilege report over the admin API, on a fixture trail and a fixture tool policy whose exact report is
 * known: use by the agent on its own and as the acting agent counts; another agent's use, use where the agent is only
 * an earlier actor, failed tool calls, denied decisions and refusals do not; roles that do not apply in the agent's
 * environment or do not exist are removed; tools granted come from the tool rules that can match the agent (by exact
 * id, by glob, or by no agent condition; not rules for another agent or environment, not deny rules), and the rules
 * whose tools it never used are narrowed or excluded.
 */
class LeastPrivilegeReportTest {
    static final String AGENT = "payments.settlement.reconciler";
    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient HTTP = HttpClient.newHttpClient();
    @TempDir
    static Path dir;
    static AgentTestBroker broker;
    static String admin;

    static final String TOOLS = """
            tools:
              default: deny
              decision_clients: [bank-mcp]
              rules:
                - id: read-only
                  effect: permit
                  tools: ["get_*", "überweisung_prüfen"]
                - id: reconciler-transfers
                  effect: permit
                  tools: [transfer_funds, refund]
                  actors: {agents: [payments.settlement.reconciler], environments: [prod]}
                - id: large-transfers
                  effect: require_approval
                  tools: [transfer_funds]
                  when: ["amount > 10000"]
                - id: payment-agents-export
                  effect: permit
                  tools: [export_ledger]
                  actors: {agents: ["payments.*"]}
                  subject: {groups: [finance]}
                - id: staging-only
                  effect: permit
                  tools: [reset_sandbox]
                  actors: {environments: [staging]}
                - id: zoes-cleanup
                  effect: permit
                  tools: [delete_everything]
                  actors: {agents: [zoe-agent]}
                - id: no-mallory
                  effect: deny
                  tools: [transfer_funds, close_account]
                  when: ["to == Mallory"]
            """;

    @BeforeAll
    static void start() throws Exception {
        Path config = dir.resolve("config");
        java.nio.file.Files.createDirectories(config.resolve("tenants/demo/policies"));
        java.nio.file.Files.writeString(config.resolve("broker.yml"), "private_key_jwt:\n  jwks_uri_allow_private: true\n");
        java.nio.file.Files.writeString(config.resolve("tenants/demo/tenant.yml"), "display_name: Demo\n");
        java.nio.file.Files.writeString(config.resolve("tenants/demo/policies/tools.yml"), TOOLS);
        broker = AgentTestBroker.builder(dir).configDir(config).start();
        broker.role("reader", List.of("files:read", "files:list"), List.of());
        broker.role("mail.sender", List.of("mail:send", "mail:read"), List.of());
        broker.role("writer", List.of("files:write"), List.of("dev"));
        broker.agent(AGENT, Agent.AuthMethod.PRIVATE_KEY_JWT, List.of("reader", "mail.sender", "writer", "ghost-role"));
        broker.agent("zoe-agent", Agent.AuthMethod.PRIVATE_KEY_JWT, List.of("reader"));
        broker.agent(BATCHER, Agent.AuthMethod.PRIVATE_KEY_JWT, List.of("reader"));
        AuditLog log = broker.bean(AuditLog.class);
        String iss = "https://idp.example.com/";
        log.appendAll(List.of(
                ev(EventTypes.TOKEN_ISSUED, Outcome.SUCCESS).agent(AGENT).client(AGENT).subject(AGENT, null)
                        .scopes("files:read").build(),
                ev(EventTypes.TOKEN_EXCHANGED, Outcome.SUCCESS).agent(AGENT).actors(List.of(AGENT))
                        .subject("jonathan.christopher.williams", iss).scopes("files:read mail:send").build(),
                ev(EventTypes.TOKEN_ISSUED, Outcome.SUCCESS).agent("zoe-agent").scopes("files:list").build(),
                ev(EventTypes.TOKEN_EXCHANGED, Outcome.SUCCESS).agent("other.agent").actors(List.of("other.agent", AGENT))
                        .subject("zoë", iss).scopes("files:list").build(),
                ev(EventTypes.TOOL_CALL, Outcome.SUCCESS).agent(AGENT).actors(List.of(AGENT)).subject("zoë", iss)
                        .detail("tool", "überweisung_prüfen").detail("status", "ok").build(),
                ev(EventTypes.TOOL_CALL, Outcome.FAILURE).agent(AGENT).detail("tool", "delete_everything")
                        .detail("status", "error").build(),
                ev(EventTypes.TOKEN_REJECTED, Outcome.FAILURE).agent(AGENT).scopes("mail:read")
                        .detail("error", "invalid_scope").build(),
                ev(EventTypes.TOOL_CALL, Outcome.SUCCESS).agent(AGENT).detail("tool", "überweisung_prüfen")
                        .detail("status", "ok").build(),
                ev(EventTypes.TOKEN_REFRESHED, Outcome.SUCCESS).agent(AGENT).actors(List.of(AGENT))
                        .subject("jonathan.christopher.williams", iss).scopes("files:read").build(),
                // decisions: a permitted one is use of the tool, a denied one is not, another agent's is not
                ev(EventTypes.POLICY_DECISION, Outcome.ALLOW).agent(AGENT).actors(List.of(AGENT))
                        .subject("jonathan.christopher.williams", iss).detail("kind", "tool").detail("tool", "transfer_funds")
                        .detail("effect", "permit").detail("rule", "reconciler-transfers").build(),
                ev(EventTypes.POLICY_DECISION, Outcome.DENY).agent(AGENT).actors(List.of(AGENT))
                        .subject("zoë", iss).detail("kind", "tool").detail("tool", "refund").detail("effect", "deny")
                        .detail("rule", "default").build(),
                ev(EventTypes.POLICY_DECISION, Outcome.ALLOW).agent("zoe-agent").actors(List.of("zoe-agent"))
                        .subject("zoë", iss).detail("kind", "tool").detail("tool", "get_balance").detail("effect", "permit")
                        .detail("rule", "read-only").build(),
                // an AuthZEN batch's entry (one subject, chain and resource): each permitted decision is a use
                ev(EventTypes.POLICY_DECISION, Outcome.DENY).agent(BATCHER).actors(List.of(BATCHER))
                        .subject("zoë", iss).resource("https://bank.example.com/mcp").detail("kind", "tool")
                        .detail("decisions", List.of(
                                decision(0, "get_balance", "permit", "read-only"),
                                decision(1, "get_balance", "permit", "read-only"),
                                decision(2, "transfer_funds", "require_approval", "large-transfers"),
                                decision(3, "close_account", "deny", "no-mallory"),
                                decision(4, "export_ledger", "permit", "payment-agents-export"))).build(),
                // another agent's batch: not this one's use
                ev(EventTypes.POLICY_DECISION, Outcome.ALLOW).agent("zoe-agent").actors(List.of("zoe-agent"))
                        .subject("zoë", iss).detail("kind", "tool").detail("decisions", List.of(
                                decision(0, "get_statement", "permit", "read-only"),
                                decision(1, "get_statement", "permit", "read-only"))).build()));
        admin = broker.adminToken();
    }

    static final String BATCHER = "payments.batch.agent";

    static Map<String, Object> decision(int index, String tool, String effect, String rule) {
        return Map.of("index", index, "tool", tool, "effect", effect, "rule", rule, "arguments", Map.of("n", index));
    }

    @SuppressWarnings("unchecked")
    @Test
    void aBatchedEntryCountsEachPermittedDecision() throws Exception {
        HttpResponse<String> r = get("/admin/t/demo/agents/" + BATCHER + "/least-privilege?since=1h");
        assertEquals(200, r.statusCode(), r.body());
        Map<String, Object> m = JSON.readValue(r.body(), Map.class);
        assertEquals(1, m.get("entries_examined"));
        List<Map<String, Object>> tools = (List<Map<String, Object>>) m.get("tools_used");
        assertEquals(List.of("export_ledger", "get_balance"), tools.stream().map(t -> t.get("tool")).toList(),
                "the permitted decisions of the batch, not the approval or the deny, not another agent's");
        assertEquals(List.of(1, 2), tools.stream().map(t -> t.get("permits")).toList());
        assertEquals(List.of(0, 0), tools.stream().map(t -> t.get("count")).toList());
    }

    static AuditEvent.Builder ev(String type, Outcome o) {
        return AuditEvent.of("demo", type, o);
    }

    @AfterAll
    static void stop() {
        if (broker != null) {
            broker.close();
        }
    }

    static HttpResponse<String> get(String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(broker.url() + path)).header("Authorization", "Bearer " + admin)
                .GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    @SuppressWarnings("unchecked")
    @Test
    void theReportOfTheFixtureTrailIsExact() throws Exception {
        HttpResponse<String> r = get("/admin/t/demo/agents/" + AGENT + "/least-privilege?since=1h");
        assertEquals(200, r.statusCode(), r.body());
        Map<String, Object> m = JSON.readValue(r.body(), Map.class);
        assertEquals(AGENT, m.get("agent"));
        assertEquals("prod", m.get("environment"));
        assertEquals(6, m.get("entries_examined"));
        assertEquals(List.of("files:list", "files:read", "mail:read", "mail:send"), m.get("scopes_granted"));
        assertEquals(List.of("files:read", "mail:send"), m.get("scopes_used"));
        assertEquals(List.of("files:list", "mail:read"), m.get("scopes_unused"));
        List<Map<String, Object>> scopeUse = (List<Map<String, Object>>) m.get("scope_use");
        assertEquals(List.of("files:read", "mail:send"), scopeUse.stream().map(u -> u.get("scope")).toList());
        assertEquals(List.of(3, 1), scopeUse.stream().map(u -> u.get("count")).toList());
        List<Map<String, Object>> tools = (List<Map<String, Object>>) m.get("tools_used");
        assertEquals(List.of("transfer_funds", "überweisung_prüfen"), tools.stream().map(t -> t.get("tool")).toList());
        assertEquals(List.of(0, 2), tools.stream().map(t -> t.get("count")).toList(), "tool-call reports");
        assertEquals(List.of(1, 0), tools.stream().map(t -> t.get("permits")).toList(), "permitted decisions");

        // tools granted: from the tool policy, the rules a call by this agent can match
        assertEquals(List.of(
                Map.of("rule", "read-only", "effect", "permit", "tools", List.of("get_*", "überweisung_prüfen"),
                        "ways", List.of("for_users", "alone"), "conditions", List.of(), "tools_used", List.of("überweisung_prüfen")),
                Map.of("rule", "reconciler-transfers", "effect", "permit", "tools", List.of("transfer_funds", "refund"),
                        "ways", List.of("for_users"), "conditions", List.of(), "tools_used", List.of("transfer_funds")),
                Map.of("rule", "large-transfers", "effect", "require_approval", "tools", List.of("transfer_funds"),
                        "ways", List.of("for_users", "alone"), "conditions", List.of("amount > 10000"),
                        "tools_used", List.of("transfer_funds")),
                Map.of("rule", "payment-agents-export", "effect", "permit", "tools", List.of("export_ledger"),
                        "ways", List.of("for_users"), "conditions", List.of("subject.groups any of [finance]"),
                        "tools_used", List.of())), m.get("tools_granted"));
        assertEquals(List.of("export_ledger", "get_*", "refund"), m.get("tools_unused"));
        assertEquals(List.of(), m.get("tools_used_without_grant"));
        assertEquals(List.of(
                Map.of("role", "reader", "exists", true, "applies", true, "scopes", List.of("files:list", "files:read")),
                Map.of("role", "mail.sender", "exists", true, "applies", true, "scopes", List.of("mail:read", "mail:send")),
                Map.of("role", "writer", "exists", true, "applies", false, "scopes", List.of("files:write")),
                Map.of("role", "ghost-role", "exists", false, "applies", false, "scopes", List.of())), m.get("roles"));
        assertEquals(Map.of(
                "unused_scopes", List.of("files:list", "mail:read"),
                "remove_roles", List.of("writer", "ghost-role"),
                "narrow_roles", List.of(
                        Map.of("role", "reader", "keep_scopes", List.of("files:read"), "drop_scopes", List.of("files:list")),
                        Map.of("role", "mail.sender", "keep_scopes", List.of("mail:send"), "drop_scopes", List.of("mail:read"))),
                "keep_roles", List.of(),
                "change_needed", true,
                "unused_tools", List.of("export_ledger", "get_*", "refund"),
                "tool_rules", List.of(
                        toolRule("read-only", "narrow", List.of("überweisung_prüfen"), List.of("get_*"),
                                "rule read-only reaches payments.settlement.reconciler without naming it: narrow its"
                                        + " actors.agents (or subject.ids) and name payments.settlement.reconciler in a rule"
                                        + " for [überweisung_prüfen]"),
                        toolRule("reconciler-transfers", "narrow", List.of("transfer_funds"), List.of("refund"),
                                "take payments.settlement.reconciler out of rule reconciler-transfers and name it in a"
                                        + " rule for [transfer_funds]"),
                        toolRule("large-transfers", "keep", List.of("transfer_funds"), List.of(), null),
                        toolRule("payment-agents-export", "exclude", List.of(), List.of("export_ledger"),
                                "rule payment-agents-export reaches payments.settlement.reconciler without naming it:"
                                        + " narrow its actors.agents (or subject.ids) so that it no longer matches"
                                        + " payments.settlement.reconciler")),
                "tool_change_needed", true), m.get("recommendation"));

        // every agent at once: the other agent used exactly what its one role grants, so no change
        HttpResponse<String> all = get("/admin/t/demo/least-privilege?since=1h");
        assertEquals(200, all.statusCode(), all.body());
        List<Map<String, Object>> agents = (List<Map<String, Object>>) JSON.readValue(all.body(), Map.class).get("agents");
        Map<String, Object> zoe = agents.stream().filter(a -> "zoe-agent".equals(a.get("agent"))).findFirst().orElseThrow();
        assertEquals(List.of("files:list"), zoe.get("scopes_used"));
        assertEquals(List.of("files:read"), zoe.get("scopes_unused"));
        // the other agent: the rules without an agent condition and the one naming it; of their tools it used get_balance
        assertEquals(List.of("read-only", "large-transfers", "zoes-cleanup"), ((List<Map<String, Object>>) zoe.get("tools_granted"))
                .stream().map(g -> g.get("rule")).toList());
        assertEquals(List.of("delete_everything", "transfer_funds", "überweisung_prüfen"), zoe.get("tools_unused"));
        assertEquals(strip(m), strip(agents.stream().filter(a -> AGENT.equals(a.get("agent"))).findFirst().orElseThrow()),
                "the same report in the list");
    }

    static Map<String, Object> toolRule(String rule, String change, List<String> keep, List<String> drop, String how) {
        Map<String, Object> t = new java.util.LinkedHashMap<>();
        t.put("rule", rule);
        t.put("change", change);
        t.put("keep_tools", keep);
        t.put("drop_tools", drop);
        t.put("how", how);
        return t;
    }

    static Map<String, Object> strip(Map<String, Object> m) {
        Map<String, Object> c = new java.util.HashMap<>(m);
        c.remove("since");
        c.remove("until");
        return c;
    }

    @Test
    void aWindowBeforeTheTrailIsEmptyAndBadInputGetsTheAdminError() throws Exception {
        HttpResponse<String> old = get("/admin/t/demo/agents/" + AGENT + "/least-privilege?since=2020-01-01T00:00:00Z"
                + "&until=2020-02-01T00:00:00Z");
        assertEquals(200, old.statusCode(), old.body());
        Map<?, ?> m = JSON.readValue(old.body(), Map.class);
        assertEquals(0, m.get("entries_examined"));
        assertEquals(List.of(), m.get("scopes_used"));
        for (String bad : List.of("since=yesterday", "since=99999999999999d", "since=1h&until=2h",
                "since=2001-01-01T00:00:00Z")) {
            HttpResponse<String> r = get("/admin/t/demo/agents/" + AGENT + "/least-privilege?" + bad);
            assertEquals(400, r.statusCode(), bad + ": " + r.body());
            assertTrue(r.body().contains("\"error\""), r.body());
            assertTrue(!r.body().contains("Exception"), r.body());
        }
        HttpResponse<String> missing = get("/admin/t/demo/agents/no.such.agent/least-privilege");
        assertEquals(404, missing.statusCode(), missing.body());
        HttpResponse<String> hostile = get("/admin/t/demo/agents/%C3%BCber%20agent/least-privilege");
        assertEquals(404, hostile.statusCode(), hostile.body());
    }
}
