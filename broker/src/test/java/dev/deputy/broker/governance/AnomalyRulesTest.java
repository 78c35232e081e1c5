package dev.deputy.broker.governance;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import dev.deputy.broker.agent.Agent;
import dev.deputy.broker.agent.AgentChanges;
import dev.deputy.broker.audit.AuditEntry;
import dev.deputy.broker.audit.AuditEvent;
import dev.deputy.broker.audit.AuditEvent.Outcome;
import dev.deputy.broker.audit.AuditLog;
import dev.deputy.broker.audit.EventTypes;
import dev.deputy.broker.audit.RequestMeta;
import dev.deputy.broker.oauth.AgentTestBroker;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import static dev.deputy.broker.oauth.AgentTestBroker.details;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Each anomaly rule of issue 18 on synthetic audit traffic fed through the real pipeline: entries appended to the
 * broker's {@link AuditLog}, handed by the audit writer to the detector's queue, evaluated on its thread. For each
 * rule: normal traffic (and the learning baseline) fires nothing, the anomalous entry fires exactly once, the signed
 * alert reaches the webhook, the admin SSE stream carries {@code anomaly.detected}, and a rule with
 * {@code actions: [suspend]} suspends the agent through the lifecycle path (an {@code agent.suspended} entry naming
 * the rule) while an alert-only rule leaves the agent active. Time-based rules read a clock the test moves.
 *
 * <p>"Fires nothing" is proven without waiting: the detector evaluates entries in commit order on one thread, so once
 * the anomalous entry's {@code anomaly.detected} is there, every earlier entry has been evaluated — and the one alert
 * of the agent must name the anomalous entry as its trigger.
 */
class AnomalyRulesTest {
    static final String TENANT = "demo";
    static final String BURST = "payments.settlement.reconciler";
    static final String NETWORK = "treasury.fx.assistant";
    static final String SCOPE = "files.indexer";
    static final String TOOL = "mail.triage.bot";
    static final String DEPTH = "research.orchestrator";
    static final String OFFICE = "office.assistant";
    static final String NIGHT = "night.batch-runner";
    /** An MCP server's AuthZEN batches for this agent: one policy.decision entry holding several decisions. */
    static final String BATCHED = "mcp.batched.agent";
    static final String BATCH_REFUSED = "mcp.refused.agent";
    /** Its own new_tool rule: a fresh tool name fires it, so its alert marks "everything before is evaluated". */
    static final String SENTINEL = "sentinel.agent";
    static final String SECRET_ENV = "DEPUTY_TEST_ANOMALY_RULES_" + UUID.randomUUID().toString().substring(0, 8)
            .toUpperCase().replace('-', '_');
    static final String SECRET = "rules-hook-secret-" + UUID.randomUUID();
    static final ObjectMapper JSON = new ObjectMapper();
    static final ZoneId PARIS = ZoneId.of("Europe/Paris");

    @TempDir
    static Path dir;
    static AgentTestBroker broker;
    static AuditLog log;
    static HttpServer hook;
    static final List<String[]> deliveries = new CopyOnWriteArrayList<>(); // {signature, body}
    static final BlockingQueue<String> sse = new LinkedBlockingQueue<>();
    static Thread sseReader;
    static final MovableClock clock = new MovableClock(Instant.parse("2026-12-08T09:00:01Z"));

    /** A clock the test sets; the detector reads it for every entry. */
    static final class MovableClock extends Clock {
        private volatile Instant now;

        MovableClock(Instant now) {
            this.now = now;
        }

        void set(Instant i) {
            now = i;
        }

        void advance(java.time.Duration d) {
            now = now.plus(d);
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }

    @BeforeAll
    static void start() throws Exception {
        hook = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        hook.createContext("/alerts", ex -> {
            byte[] body = ex.getRequestBody().readAllBytes();
            deliveries.add(new String[]{ex.getRequestHeaders().getFirst("Deputy-Signature"),
                    new String(body, StandardCharsets.UTF_8)});
            ex.sendResponseHeaders(204, -1);
            ex.close();
        });
        hook.start();
        System.setProperty(SECRET_ENV, SECRET);
        Path config = dir.resolve("config");
        Files.createDirectories(config.resolve("tenants/" + TENANT));
        Files.writeString(config.resolve("broker.yml"), "private_key_jwt:\n  jwks_uri_allow_private: true\n");
        Files.writeString(config.resolve("tenants/" + TENANT + "/tenant.yml"), """
                display_name: Demo
                anomaly:
                  webhook:
                    url: http://127.0.0.1:%d/alerts
                    secret_env: %s
                  rules:
                    - id: refusal-burst
                      kind: refusal_burst
                      count: 3
                      within: 1m
                      agents: [%s]
                      actions: [alert, suspend]
                    - id: new-network
                      kind: new_network
                      agents: [%s]
                    - id: new-scope
                      kind: new_scope
                      agents: [%s]
                    - id: new-tool
                      kind: new_tool
                      agents: [%s]
                      actions: [alert, suspend]
                    - id: deep-chains
                      kind: delegation_depth
                      max_depth: 2
                      agents: [%s]
                    - id: office-hours
                      kind: off_hours
                      hours: "08:00-19:00"
                      days: [mon, tue, wed, thu, fri]
                      time_zone: Europe/Paris
                      agents: [%s, %s]
                    - id: sentinel
                      kind: new_tool
                      agents: [%s]
                    - id: new-tool-batched
                      kind: new_tool
                      agents: [%s]
                    - id: batch-refusals
                      kind: refusal_burst
                      count: 3
                      within: 1m
                      agents: [%s]
                """.formatted(hook.getAddress().getPort(), SECRET_ENV, BURST, NETWORK, SCOPE, TOOL, DEPTH, OFFICE, NIGHT,
                SENTINEL, BATCHED, BATCH_REFUSED));
        broker = AgentTestBroker.builder(dir).configDir(config).start();
        log = broker.bean(AuditLog.class);
        broker.bean(AnomalyDetector.class).clock(clock);
        for (String id : List.of(BURST, NETWORK, SCOPE, TOOL, DEPTH, OFFICE)) {
            broker.agent(id, Agent.AuthMethod.PRIVATE_KEY_JWT, List.of("reader"));
        }
        // the night runner works 22:00-06:00 (its metadata overrides the rule's hours)
        long now = System.currentTimeMillis();
        broker.agents().saveAgent(new Agent(TENANT, NIGHT, "Night batch runner", "zoë.ångström@example.com", "prod",
                List.of("reader"), Map.of("working_hours", "22:00-06:00"), Agent.Status.ACTIVE,
                Agent.AuthMethod.PRIVATE_KEY_JWT, "api", now, now, null, null));
        broker.bean(AgentChanges.class).changed(TENANT, NIGHT);
        List<AuditEntry> before = broker.audit();
        sseReader = followStream(broker.adminToken(), before.isEmpty() ? 0 : before.get(before.size() - 1).seq());
        // the sentinel's baseline (its first tool call only learns)
        append(ev(EventTypes.TOOL_CALL, Outcome.SUCCESS).agent(SENTINEL).detail("tool", "baseline").detail("status", "ok"), null);
    }

    @AfterAll
    static void stop() {
        if (sseReader != null) {
            sseReader.interrupt();
        }
        if (broker != null) {
            broker.close();
        }
        if (hook != null) {
            hook.stop(0);
        }
        System.clearProperty(SECRET_ENV);
    }

    // ---- the rules

    @Test
    void refusalBurst_firesOnTheCountWithinTheWindowAndSuspends() throws Exception {
        // the start of a minute: the sliding count's previous period is empty
        clock.set(Instant.parse("2026-12-08T09:10:00.500Z"));
        AuditEntry first = append(ev(EventTypes.TOKEN_REJECTED, Outcome.FAILURE).agent(BURST).client(BURST)
                .detail("error", "invalid_client"), "198.51.100.7");
        append(ev(EventTypes.TOOL_CALL_REJECTED, Outcome.FAILURE).agent(BURST).detail("error", "invalid_token"), "198.51.100.7");
        // normal traffic: successes are not refusals
        append(ev(EventTypes.TOKEN_ISSUED, Outcome.SUCCESS).agent(BURST).client(BURST).scopes("files:read"), "198.51.100.7");
        // three minutes later the two refusals have left the window: two more make two, not four
        appendAndAwaitSentinel(); // the detector reads the clock when it evaluates: let it catch up before moving it
        clock.advance(java.time.Duration.ofMinutes(3));
        append(ev(EventTypes.TOKEN_REFRESH_REUSE, Outcome.FAILURE).agent(BURST), "198.51.100.7");
        append(ev(EventTypes.POLICY_DECISION, Outcome.DENY).agent(BURST).actors(List.of(BURST))
                .detail("kind", "tool").detail("tool", "transfer_funds").detail("effect", "deny"), "198.51.100.7");
        // a permitted decision is no refusal
        append(ev(EventTypes.POLICY_DECISION, Outcome.ALLOW).agent(BURST).actors(List.of(BURST))
                .detail("kind", "tool").detail("tool", "get_balance").detail("effect", "permit"), "198.51.100.7");
        appendAndAwaitSentinel();
        clock.advance(java.time.Duration.ofSeconds(5));
        AuditEntry third = append(ev(EventTypes.TOKEN_REJECTED, Outcome.FAILURE).agent(BURST).client(BURST)
                .detail("error", "invalid_client"), "198.51.100.7");
        // more refusals in the same period: no second alert
        append(ev(EventTypes.TOKEN_REJECTED, Outcome.FAILURE).agent(BURST).client(BURST).detail("error", "invalid_client"), null);

        AuditEntry detected = theOnlyAlert(BURST, "refusal-burst");
        assertTrue(first.seq() < third.seq());
        Map<String, Object> d = details(detected);
        assertEquals(third.seq(), ((Number) d.get("trigger_seq")).longValue(), "the third refusal within the minute fired");
        assertEquals("token.rejected", d.get("trigger_type"));
        assertEquals("refusal_burst", d.get("kind"));
        assertEquals(3, ((Number) d.get("count")).intValue());
        assertEquals("3 refusals within 1m (rule: 3)", d.get("reason"));
        assertEquals(true, d.get("suspended"));
        assertSuspendedBy(BURST, "refusal-burst", "3 refusals within 1m");
        assertAlerted(detected, BURST, "refusal-burst", true);
        // the fourth refusal (same period) was evaluated too: still exactly one alert once a later one has fired
        appendAndAwaitSentinel();
        assertEquals(1, alerts(BURST, "refusal-burst").size());
    }

    @Test
    void newNetwork_firesOnTheFirstUseFromAnotherNetworkAfterTheBaseline() throws Exception {
        // the baseline: the first use learns 10.20.30.0/24 and never fires
        append(ev(EventTypes.TOKEN_ISSUED, Outcome.SUCCESS).agent(NETWORK).client(NETWORK).scopes("files:read"), "10.20.30.40");
        // normal traffic: the same /24, a tool call, a refresh
        append(ev(EventTypes.TOKEN_REFRESHED, Outcome.SUCCESS).agent(NETWORK).actors(List.of(NETWORK))
                .subject("jonathan.christopher.williams", "https://idp.example.com/").scopes("files:read"), "10.20.30.99");
        append(ev(EventTypes.TOOL_CALL, Outcome.SUCCESS).agent(NETWORK).actors(List.of(NETWORK)).detail("tool", "get_balance")
                .detail("status", "ok"), "10.20.30.7");
        // a refused request from elsewhere is not use (the refusal rules see it)
        append(ev(EventTypes.TOKEN_REJECTED, Outcome.FAILURE).agent(NETWORK).detail("error", "invalid_client"), "203.0.113.66");
        AuditEntry trigger = append(ev(EventTypes.TOKEN_EXCHANGED, Outcome.SUCCESS).agent(NETWORK).actors(List.of(NETWORK))
                .subject("zoë.ångström", "https://idp.example.com/").scopes("files:read"), "203.0.113.9");
        // known from now on: the same new network again does not fire
        append(ev(EventTypes.TOKEN_ISSUED, Outcome.SUCCESS).agent(NETWORK).client(NETWORK).scopes("files:read"), "203.0.113.200");

        AuditEntry detected = theOnlyAlert(NETWORK, "new-network");
        Map<String, Object> d = details(detected);
        assertEquals(trigger.seq(), ((Number) d.get("trigger_seq")).longValue());
        assertEquals("203.0.113.0/24", d.get("network"));
        assertEquals("token request from network 203.0.113.0/24 not seen for this agent within 30d", d.get("reason"));
        assertEquals(false, d.get("suspended"));
        assertEquals("203.0.113.9", detected.sourceIp(), "the alert carries the triggering request's address");
        assertActive(NETWORK);
        assertAlerted(detected, NETWORK, "new-network", false);
        appendAndAwaitSentinel();
        assertEquals(1, alerts(NETWORK, "new-network").size());
    }

    @Test
    void newScope_firesOnAScopeNotSeenBefore() throws Exception {
        append(ev(EventTypes.TOKEN_ISSUED, Outcome.SUCCESS).agent(SCOPE).client(SCOPE).scopes("files:read files:list"), "10.0.0.5");
        append(ev(EventTypes.TOKEN_ISSUED, Outcome.SUCCESS).agent(SCOPE).client(SCOPE).scopes("files:list"), "10.0.0.5");
        // a refused request for a new scope is not use
        append(ev(EventTypes.TOKEN_REJECTED, Outcome.FAILURE).agent(SCOPE).scopes("files:delete")
                .detail("error", "invalid_scope"), "10.0.0.5");
        AuditEntry trigger = append(ev(EventTypes.TOKEN_ISSUED, Outcome.SUCCESS).agent(SCOPE).client(SCOPE)
                .scopes("files:read files:write"), "10.0.0.5");
        append(ev(EventTypes.TOKEN_ISSUED, Outcome.SUCCESS).agent(SCOPE).client(SCOPE).scopes("files:write"), "10.0.0.5");

        AuditEntry detected = theOnlyAlert(SCOPE, "new-scope");
        Map<String, Object> d = details(detected);
        assertEquals(trigger.seq(), ((Number) d.get("trigger_seq")).longValue());
        assertEquals("files:write", d.get("scope"));
        assertEquals("first use of scope files:write not seen for this agent within 30d", d.get("reason"));
        assertActive(SCOPE);
        assertAlerted(detected, SCOPE, "new-scope", false);
        appendAndAwaitSentinel();
        assertEquals(1, alerts(SCOPE, "new-scope").size());
    }

    @Test
    void newTool_firesOnAToolNeverCalledBeforeAndSuspends() throws Exception {
        append(ev(EventTypes.TOOL_CALL, Outcome.SUCCESS).agent(TOOL).detail("tool", "mail.list").detail("status", "ok"), "10.9.8.7");
        append(ev(EventTypes.TOOL_CALL, Outcome.SUCCESS).agent(TOOL).detail("tool", "mail.list").detail("status", "ok"), "10.9.8.7");
        // a denied decision about another tool is not a call of it
        append(ev(EventTypes.POLICY_DECISION, Outcome.DENY).agent(TOOL).actors(List.of(TOOL)).detail("kind", "tool")
                .detail("tool", "mail.delete_all").detail("effect", "deny"), "10.9.8.7");
        AuditEntry trigger = append(ev(EventTypes.TOOL_CALL, Outcome.SUCCESS).agent(TOOL).actors(List.of(TOOL))
                .subject("jonathan.christopher.williams", "https://idp.example.com/")
                .detail("tool", "überweisung_prüfen").detail("status", "ok"), "10.9.8.7");

        AuditEntry detected = theOnlyAlert(TOOL, "new-tool");
        Map<String, Object> d = details(detected);
        assertEquals(trigger.seq(), ((Number) d.get("trigger_seq")).longValue());
        assertEquals("tool.call", d.get("trigger_type"));
        assertEquals("überweisung_prüfen", d.get("tool"));
        assertEquals(true, d.get("suspended"));
        assertSuspendedBy(TOOL, "new-tool", "first use of tool überweisung_prüfen");
        assertAlerted(detected, TOOL, "new-tool", true);
    }

    static Map<String, Object> decision(int index, String tool, String effect) {
        return Map.of("index", index, "tool", tool, "effect", effect, "rule", effect + "-rule", "arguments", Map.of());
    }

    /** An AuthZEN batch's entry: one subject, chain and resource, several decisions (docs/governance.md). */
    @SafeVarargs
    static AuditEvent.Builder batch(String agent, Outcome outcome, Map<String, Object>... decisions) {
        return ev(EventTypes.POLICY_DECISION, outcome).agent(agent).actors(List.of(agent))
                .subject("jonathan.christopher.williams", null).resource("https://mail.example.com/mcp")
                .detail("kind", "tool").detail("decisions", List.of(decisions));
    }

    @Test
    @SuppressWarnings("unchecked")
    void newTool_firesOnAPermittedDecisionInsideABatchedEntry() throws Exception {
        // the baseline: a batch of known tools only learns
        append(batch(BATCHED, Outcome.ALLOW, decision(0, "mail.list", "permit"), decision(1, "mail.read", "permit")),
                "10.9.8.6");
        // a batch whose only new tool is denied: not a use
        append(batch(BATCHED, Outcome.DENY, decision(0, "mail.list", "permit"), decision(1, "mail.purge", "deny")),
                "10.9.8.6");
        AuditEntry trigger = append(batch(BATCHED, Outcome.DENY, decision(0, "mail.read", "permit"),
                decision(1, "mail.purge_all", "require_approval"), decision(2, "calendar.write", "permit")), "10.9.8.6");

        AuditEntry detected = theOnlyAlert(BATCHED, "new-tool-batched");
        Map<String, Object> d = details(detected);
        assertEquals(trigger.seq(), ((Number) d.get("trigger_seq")).longValue());
        assertEquals("policy.decision", d.get("trigger_type"));
        assertEquals("calendar.write", d.get("tool"), "the permitted new tool of the batch, not the one awaiting approval");
    }

    @Test
    void refusalBurst_countsEachRefusedDecisionOfABatchedEntry() throws Exception {
        clock.set(Instant.parse("2026-12-08T09:20:00.500Z"));
        // two refusals in one batch: under the rule's 3
        append(batch(BATCH_REFUSED, Outcome.DENY, decision(0, "a", "deny"), decision(1, "b", "permit"),
                decision(2, "c", "require_approval")), "10.9.8.5");
        appendAndAwaitSentinel();
        assertEquals(0, alerts(BATCH_REFUSED, "batch-refusals").size());
        AuditEntry trigger = append(batch(BATCH_REFUSED, Outcome.DENY, decision(0, "d", "deny"), decision(1, "e", "permit")),
                "10.9.8.5");
        AuditEntry detected = theOnlyAlert(BATCH_REFUSED, "batch-refusals");
        assertEquals(trigger.seq(), ((Number) details(detected).get("trigger_seq")).longValue());
        assertEquals(3, ((Number) details(detected).get("count")).intValue());
    }

    @Test
    void delegationDepth_firesOnAChainLongerThanTheRule() throws Exception {
        append(ev(EventTypes.TOKEN_EXCHANGED, Outcome.SUCCESS).agent(DEPTH).actors(List.of(DEPTH))
                .subject("zoë.ångström", "https://idp.example.com/").scopes("files:read"), "10.1.1.1");
        append(ev(EventTypes.TOKEN_EXCHANGED, Outcome.SUCCESS).agent(DEPTH).actors(List.of(DEPTH, "summariser.agent"))
                .subject("zoë.ångström", "https://idp.example.com/").scopes("files:read"), "10.1.1.1");
        AuditEntry trigger = append(ev(EventTypes.TOOL_CALL, Outcome.SUCCESS).agent(DEPTH)
                .actors(List.of(DEPTH, "summariser.agent", "crawler.agent"))
                .subject("zoë.ångström", "https://idp.example.com/").detail("tool", "search").detail("status", "ok"), "10.1.1.1");

        AuditEntry detected = theOnlyAlert(DEPTH, "deep-chains");
        Map<String, Object> d = details(detected);
        assertEquals(trigger.seq(), ((Number) d.get("trigger_seq")).longValue());
        assertEquals(3, ((Number) d.get("depth")).intValue());
        assertEquals("delegation chain of depth 3 (rule: at most 2)", d.get("reason"));
        assertEquals(List.of(DEPTH, "summariser.agent", "crawler.agent"), List.of(detected.actor().split(" > ")));
        assertActive(DEPTH);
        assertAlerted(detected, DEPTH, "deep-chains", false);
    }

    @Test
    void offHours_firesOutsideTheAgentsWorkingHoursOnTheRulesClock() throws Exception {
        // Tuesday 10:00 in Paris: working hours
        clock.set(ZonedDateTime.of(2026, 12, 8, 10, 0, 0, 0, PARIS).toInstant());
        append(ev(EventTypes.TOKEN_ISSUED, Outcome.SUCCESS).agent(OFFICE).client(OFFICE).scopes("files:read"), "10.2.2.2");
        appendAndAwaitSentinel(); // the detector reads the clock when it evaluates: let it catch up before moving it
        // Tuesday 18:59:59 still is
        clock.set(ZonedDateTime.of(2026, 12, 8, 18, 59, 59, 0, PARIS).toInstant());
        append(ev(EventTypes.TOOL_CALL, Outcome.SUCCESS).agent(OFFICE).detail("tool", "calendar.read").detail("status", "ok"), "10.2.2.2");
        appendAndAwaitSentinel();
        // the night runner at 23:30 on Tuesday: its own hours (metadata 22:00-06:00)
        clock.set(ZonedDateTime.of(2026, 12, 8, 23, 30, 0, 0, PARIS).toInstant());
        append(ev(EventTypes.TOKEN_ISSUED, Outcome.SUCCESS).agent(NIGHT).client(NIGHT).scopes("files:read"), "10.2.2.3");
        appendAndAwaitSentinel();
        // Saturday 10:00: not a working day for the office assistant
        clock.set(ZonedDateTime.of(2026, 12, 12, 10, 0, 0, 0, PARIS).toInstant());
        AuditEntry weekend = append(ev(EventTypes.TOKEN_ISSUED, Outcome.SUCCESS).agent(OFFICE).client(OFFICE)
                .scopes("files:read"), "10.2.2.2");
        AuditEntry office = theOnlyAlert(OFFICE, "office-hours");
        Map<String, Object> d = details(office);
        assertEquals(weekend.seq(), ((Number) d.get("trigger_seq")).longValue());
        assertEquals("2026-12-12T10:00", d.get("local_time"));
        assertEquals("use at 2026-12-12T10:00 Europe/Paris, outside 08:00-19:00", d.get("reason"));
        assertActive(OFFICE);
        assertAlerted(office, OFFICE, "office-hours", false);
        appendAndAwaitSentinel();

        // the night runner at noon on Wednesday: outside its own hours
        clock.set(ZonedDateTime.of(2026, 12, 9, 12, 0, 0, 0, PARIS).toInstant());
        AuditEntry noon = append(ev(EventTypes.TOKEN_ISSUED, Outcome.SUCCESS).agent(NIGHT).client(NIGHT)
                .scopes("files:read"), "10.2.2.3");
        AuditEntry night = theOnlyAlert(NIGHT, "office-hours");
        assertEquals(noon.seq(), ((Number) details(night).get("trigger_seq")).longValue(), "23:30 did not fire");
        assertEquals("use at 2026-12-09T12:00 Europe/Paris, outside 22:00-06:00", details(night).get("reason"));
        assertAlerted(night, NIGHT, "office-hours", false);
    }

    // ---- helpers

    static AuditEvent.Builder ev(String type, Outcome o) {
        return AuditEvent.of(TENANT, type, o);
    }

    static AuditEntry append(AuditEvent.Builder b, String ip) {
        return log.append(b.request(new RequestMeta(UUID.randomUUID().toString().replace("-", ""), null, ip)).build());
    }

    /** The sentinel's alert on a fresh tool: once it is there, every entry appended before it has been evaluated. */
    static void appendAndAwaitSentinel() throws Exception {
        String tool = "probe_" + UUID.randomUUID().toString().substring(0, 8);
        append(ev(EventTypes.TOOL_CALL, Outcome.SUCCESS).agent(SENTINEL).detail("tool", tool).detail("status", "ok"), null);
        await(() -> broker.audit().stream().anyMatch(e -> EventTypes.ANOMALY_DETECTED.equals(e.type())
                && tool.equals(details(e).get("tool"))), "the sentinel alert");
    }

    static List<AuditEntry> alerts(String agent, String rule) {
        return broker.audit().stream().filter(e -> EventTypes.ANOMALY_DETECTED.equals(e.type()) && agent.equals(e.agentId())
                && rule.equals(details(e).get("rule"))).toList();
    }

    static AuditEntry theOnlyAlert(String agent, String rule) throws Exception {
        await(() -> !alerts(agent, rule).isEmpty(), "anomaly.detected for " + agent);
        List<AuditEntry> all = broker.audit().stream()
                .filter(e -> EventTypes.ANOMALY_DETECTED.equals(e.type()) && agent.equals(e.agentId())).toList();
        assertEquals(1, all.size(), "exactly one alert for " + agent + ": " + all.stream().map(e -> details(e)).toList());
        return all.get(0);
    }

    static void await(Supplier<Boolean> condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!condition.get()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(20);
        }
    }

    static void assertActive(String agent) {
        assertEquals(Agent.Status.ACTIVE, broker.agents().findAgent(TENANT, agent).orElseThrow().status());
        assertTrue(broker.audit().stream().noneMatch(e -> EventTypes.AGENT_SUSPENDED.equals(e.type())
                && agent.equals(e.agentId())), "an alert-only rule does not suspend");
    }

    static void assertSuspendedBy(String agent, String rule, String reasonStart) {
        assertEquals(Agent.Status.SUSPENDED, broker.agents().findAgent(TENANT, agent).orElseThrow().status());
        List<AuditEntry> suspended = broker.audit().stream().filter(e -> EventTypes.AGENT_SUSPENDED.equals(e.type())
                && agent.equals(e.agentId())).toList();
        assertEquals(1, suspended.size());
        Map<String, Object> d = details(suspended.get(0));
        assertEquals("system:anomaly:" + rule, d.get("actor"));
        assertTrue(d.get("reason").toString().startsWith("anomaly:" + rule + ": " + reasonStart), d.toString());
    }

    /** The signed webhook delivery and the SSE event of this alert. */
    static void assertAlerted(AuditEntry detected, String agent, String rule, boolean suspended) throws Exception {
        await(() -> deliveries.stream().anyMatch(x -> x[1].contains("\"seq\":" + detected.seq() + ",")), "the webhook delivery");
        String[] del = deliveries.stream().filter(x -> x[1].contains("\"seq\":" + detected.seq() + ",")).findFirst().orElseThrow();
        long t = Long.parseLong(del[0].substring(2, del[0].indexOf(',')));
        assertEquals(AnomalyWebhook.signature(SECRET.getBytes(StandardCharsets.UTF_8), t, del[1]), del[0],
                "HMAC-SHA256 over <t>.<body> with the tenant's secret");
        Map<?, ?> body = JSON.readValue(del[1], Map.class);
        assertEquals("anomaly.detected", body.get("type"));
        assertEquals(TENANT, body.get("tenant"));
        assertEquals(agent, body.get("agent"));
        assertEquals(rule, body.get("rule"));
        assertEquals(suspended, body.get("suspended"));
        assertEquals(detected.hash(), body.get("entry_hash"));
        assertTrue(!del[1].contains(SECRET));
        // the admin SSE stream carries the entry
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (true) {
            boolean seen = sse.stream().anyMatch(ev -> ev.startsWith(detected.seq() + " "));
            if (seen) {
                String ev = sse.stream().filter(x -> x.startsWith(detected.seq() + " ")).findFirst().orElseThrow();
                assertTrue(ev.contains("\"type\":\"anomaly.detected\""), ev);
                assertTrue(ev.contains(rule), ev);
                return;
            }
            assertTrue(System.nanoTime() < deadline, "anomaly.detected " + detected.seq() + " not on the SSE stream");
            Thread.sleep(20);
        }
    }

    /** Follows {@code /admin/t/demo/audit/stream} after {@code seq}; each event as "{@code <id> <data>}". */
    static Thread followStream(String admin, long after) {
        HttpClient http = HttpClient.newHttpClient();
        return Thread.ofVirtual().start(() -> {
            try {
                HttpResponse<java.io.InputStream> r = http.send(HttpRequest.newBuilder(URI.create(broker.url() + "/admin/t/"
                                + TENANT + "/audit/stream?after=" + after)).header("Authorization", "Bearer " + admin)
                        .header("Accept", "text/event-stream").GET().build(), HttpResponse.BodyHandlers.ofInputStream());
                if (r.statusCode() != 200) {
                    sse.add("status " + r.statusCode());
                    return;
                }
                try (BufferedReader br = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
                    String line;
                    String id = null;
                    String event = null;
                    while ((line = br.readLine()) != null && !Thread.currentThread().isInterrupted()) {
                        if (line.startsWith("id:")) {
                            id = line.substring(3).trim();
                        } else if (line.startsWith("event:")) {
                            event = line.substring(6).trim();
                        } else if (line.startsWith("data:") && "audit".equals(event)) {
                            sse.add(id + " " + line.substring(5));
                        } else if (line.isEmpty()) {
                            id = null;
                            event = null;
                        }
                    }
                }
            } catch (Exception ignored) {
                // closed at the end
            }
        });
    }
}
