package dev.deputy.broker.governance;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.deputy.broker.agent.Actor;
import dev.deputy.broker.agent.Agent;
import dev.deputy.broker.agent.AgentChanges;
import dev.deputy.broker.agent.AgentException;
import dev.deputy.broker.agent.Agents;
import dev.deputy.broker.audit.AuditEntry;
import dev.deputy.broker.audit.AuditEvent;
import dev.deputy.broker.audit.AuditLog;
import dev.deputy.broker.audit.EventTypes;
import dev.deputy.broker.audit.PolicyDecisions;
import dev.deputy.broker.audit.RequestMeta;
import dev.deputy.broker.config.AnomalyFile;
import dev.deputy.broker.config.AnomalyFile.RuleFile;
import dev.deputy.broker.ephemeral.EphemeralStore;
import io.micronaut.context.annotation.Context;
import jakarta.annotation.PreDestroy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetAddress;
import java.time.Clock;
import java.time.DayOfWeek;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalTime;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * Evaluates each tenant's anomaly rules ({@code anomaly:} in tenant.yml, docs/governance.md) on the audit stream as
 * entries are committed. Each node evaluates the entries it wrote itself (every entry is seen exactly once in the
 * cluster), on one thread of its own, from a bounded queue filled by the audit writer — the append path never waits
 * for it and the database is never polled. State a rule needs across entries (refusal counters, the networks, scopes
 * and tools an agent is known to use) lives in the ephemeral store with a TTL: Redis when the broker runs on Redis (so
 * a burst spread over nodes is counted once), in-process on the embedded default.
 *
 * <p>A rule that fires writes {@code anomaly.detected}, posts a signed alert to the tenant's webhook (retried with
 * backoff) and, with {@code actions: [suspend]}, suspends the agent through {@link Agents#suspend} — the path an
 * admin uses — as actor {@code system:anomaly:<rule>}, so {@code agent.suspended} names the rule and every node
 * drops the agent at once ({@link AgentChanges}).
 *
 * <p>Time: the rules that count or read the clock ({@code refusal_burst}'s sliding count, {@code off_hours}) take the
 * time the detector evaluates an entry — within milliseconds of its commit — from its {@link Clock} (the system clock;
 * tests set another one instead of waiting for real hours).
 */
@Context
public class AnomalyDetector {
    private static final Logger LOG = LoggerFactory.getLogger(AnomalyDetector.class);
    static final int QUEUE = 10_000;
    /** Known values (networks, scopes, tools) remembered per agent and rule; past it the rule stops learning. */
    static final int MAX_KNOWN = 256;
    /** One alert per rule, agent and trigger (network, scope, tool, period) within this. */
    static final Duration QUIET = Duration.ofMinutes(5);
    private static final Set<String> REFUSALS = Set.of(EventTypes.TOKEN_REJECTED, EventTypes.TOKEN_REFRESH_REUSE,
            EventTypes.TOOL_CALL_REJECTED);
    private static final Set<String> TOKENS = Set.of(EventTypes.TOKEN_ISSUED, EventTypes.TOKEN_EXCHANGED,
            EventTypes.TOKEN_REFRESHED);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final AnomalySettings settings;
    private final EphemeralStore store;
    private final AuditLog log;
    private final Agents agents;
    private final AnomalyWebhook webhook;
    private final BlockingQueue<AuditEntry> queue = new ArrayBlockingQueue<>(QUEUE);
    private final LongAdder dropped = new LongAdder();
    private final Map<String, Optional<Agent>> agentCache = new ConcurrentHashMap<>();
    private final Thread worker;
    private volatile boolean stopped;
    private volatile Clock clock = Clock.systemUTC();

    public AnomalyDetector(AnomalySettings settings, EphemeralStore store, AuditLog log, Agents agents,
                           AgentChanges changes, AnomalyWebhook webhook) {
        this.settings = settings;
        this.store = store;
        this.log = log;
        this.agents = agents;
        this.webhook = webhook;
        changes.listen((tenant, agent) -> agentCache.remove(tenant + "/" + agent));
        this.worker = Thread.ofPlatform().daemon().name("deputy-anomaly").start(this::run);
        log.addEntriesListener(this::committed);
    }

    /** On the audit writer's thread: keep only what a rule of the tenant may look at, never block. */
    private void committed(List<AuditEntry> entries) {
        for (AuditEntry e : entries) {
            if (!relevant(e.type(), e.outcome()) || settings.of(e.tenantId()).rules().isEmpty()) {
                continue;
            }
            if (!queue.offer(e)) {
                dropped.increment();
                if (dropped.sum() % 1000 == 1) {
                    LOG.warn("anomaly rules: evaluation queue full, {} entries not evaluated so far", dropped.sum());
                }
            }
        }
    }

    static boolean relevant(String type, String outcome) {
        return REFUSALS.contains(type) || TOKENS.contains(type) || EventTypes.TOOL_CALL.equals(type)
                || EventTypes.POLICY_DECISION.equals(type); // refusals, and permitted tools (new_tool)
    }

    /** Entries not evaluated because the queue was full; for tests and metrics. */
    public long dropped() {
        return dropped.sum();
    }

    /** The clock the time-based rules read (tests: a clock they move instead of waiting). */
    void clock(Clock c) {
        this.clock = c;
    }

    private void run() {
        while (!stopped) {
            AuditEntry e;
            try {
                e = queue.poll(1, TimeUnit.SECONDS);
            } catch (InterruptedException ie) {
                return;
            }
            if (e == null) {
                continue;
            }
            try {
                evaluate(e);
            } catch (RuntimeException ex) {
                LOG.warn("anomaly rules: entry {} of tenant {} not evaluated: {}", e.seq(), e.tenantId(), ex.toString());
            }
        }
    }

    @PreDestroy
    void stop() {
        stopped = true;
        worker.interrupt();
    }

    /** A rule fired on an entry. */
    record Finding(RuleFile rule, String agentId, String reason, String key, Map<String, Object> facts) {
    }

    void evaluate(AuditEntry e) {
        String agentId = agentOf(e);
        if (agentId == null) {
            return;
        }
        AnomalyFile file = settings.of(e.tenantId());
        long now = clock.millis();
        for (RuleFile rule : file.rules()) {
            if (!rule.appliesTo(agentId)) {
                continue;
            }
            Finding f = check(rule, e, agentId, now);
            if (f != null && store.putIfAbsent(prefix(e.tenantId(), rule, agentId) + "fired:" + f.key(), "1", QUIET)) {
                act(file, e, f);
            }
        }
    }

    private Finding check(RuleFile rule, AuditEntry e, String agentId, long now) {
        boolean decision = EventTypes.POLICY_DECISION.equals(e.type());
        // a batched policy.decision entry holds several decisions (PolicyDecisions): each refused one counts
        List<Map<String, Object>> decisions = decision ? PolicyDecisions.of(details(e)) : List.of();
        int refusals = REFUSALS.contains(e.type()) ? 1 : !decision ? 0
                : !decisions.isEmpty() && decisions.get(0).containsKey("effect")
                ? (int) decisions.stream().filter(d -> !PolicyDecisions.permitted(d)).count()
                : "deny".equals(e.outcome()) ? 1 : 0;
        boolean refusal = refusals > 0;
        boolean use = TOKENS.contains(e.type()) || EventTypes.TOOL_CALL.equals(e.type());
        String p = prefix(e.tenantId(), rule, agentId);
        switch (rule.kind()) {
            case RuleFile.REFUSAL_BURST -> {
                if (!refusal) {
                    return null;
                }
                // a sliding count over two fixed periods: the current one, and the previous one weighted by overlap
                long within = rule.within().toMillis();
                long period = now / within;
                long current = 0;
                for (int i = 0; i < refusals; i++) {
                    current = store.increment(p + "n:" + period, rule.within().multipliedBy(2));
                }
                long before = store.get(p + "n:" + (period - 1)).map(Long::parseLong).orElse(0L);
                double overlap = 1.0 - (double) (now % within) / within;
                long estimate = current + (long) Math.floor(before * overlap);
                if (estimate >= rule.count()) {
                    return new Finding(rule, agentId, estimate + " refusals within " + human(rule.within())
                            + " (rule: " + rule.count() + ")", "p" + period, facts("count", estimate));
                }
                return null;
            }
            case RuleFile.NEW_NETWORK -> {
                if (!use || e.sourceIp() == null) {
                    return null;
                }
                String net = network(e.sourceIp(), rule.ipv4Prefix(), rule.ipv6Prefix());
                if (net == null) {
                    return null;
                }
                return firstUse(rule, p, agentId, List.of(net), "token request from network ", "network");
            }
            case RuleFile.NEW_SCOPE -> {
                if (!TOKENS.contains(e.type()) || e.scopes() == null || e.scopes().isBlank()) {
                    return null;
                }
                return firstUse(rule, p, agentId, Arrays.asList(e.scopes().trim().split(" +")), "first use of scope ",
                        "scope");
            }
            case RuleFile.NEW_TOOL -> {
                if (decision) {
                    // a permitted tool decision (each of a batched entry's) is the agent about to use the tool
                    List<String> tools = decisions.stream()
                            .filter(d -> PolicyDecisions.tool(d) && PolicyDecisions.permitted(d) && d.get("tool") != null)
                            .map(d -> d.get("tool").toString()).distinct().toList();
                    return tools.isEmpty() ? null : firstUse(rule, p, agentId, tools, "first use of tool ", "tool");
                }
                if (!EventTypes.TOOL_CALL.equals(e.type())) {
                    return null;
                }
                Object tool = details(e).get("tool");
                return tool == null ? null : firstUse(rule, p, agentId, List.of(tool.toString()), "first use of tool ", "tool");
            }
            case RuleFile.DELEGATION_DEPTH -> {
                int depth = e.actor() == null ? 0 : e.actor().split(" > ").length;
                if (use && depth > rule.maxDepth()) {
                    return new Finding(rule, agentId, "delegation chain of depth " + depth + " (rule: at most "
                            + rule.maxDepth() + ")", "d" + depth, facts("depth", depth));
                }
                return null;
            }
            case RuleFile.OFF_HOURS -> {
                if (!use) {
                    return null;
                }
                return offHours(rule, e, agentId, now);
            }
            default -> {
                return null;
            }
        }
    }

    /**
     * New values of an agent: the first entry the rule sees of an agent (or the first after its window lapsed) is the
     * baseline and only learns; afterwards a value not known within the window fires, once, and is then known.
     */
    private Finding firstUse(RuleFile rule, String p, String agentId, List<String> values, String what, String fact) {
        boolean baseline = store.putIfAbsent(p + "baseline", "1", rule.window());
        List<String> fresh = new ArrayList<>();
        for (String v : values) {
            if (v.isEmpty()) {
                continue;
            }
            String key = p + "known:" + v;
            if (store.get(key).isPresent()) {
                continue;
            }
            if (store.increment(p + "count", rule.window()) > MAX_KNOWN) {
                return null; // past the bound: the rule stops learning this agent until the window lapses
            }
            if (store.putIfAbsent(key, "1", rule.window()) && !baseline) {
                fresh.add(v);
            }
        }
        if (fresh.isEmpty()) {
            return null;
        }
        return new Finding(rule, agentId, what + String.join(", ", fresh) + " not seen for this agent within "
                + human(rule.window()), fact + ":" + String.join(" ", fresh), facts(fact, String.join(" ", fresh)));
    }

    private Finding offHours(RuleFile rule, AuditEntry e, String agentId, long now) {
        String where = "anomaly rule '" + rule.id() + "': ";
        String hours = rule.hours();
        String zone = rule.timeZone();
        Agent a = agent(e.tenantId(), agentId);
        if (a != null) {
            // agent metadata overrides the rule: working_hours, time_zone (set by the owner or in agents/*.yml)
            Object h = a.metadata().get("working_hours");
            Object z = a.metadata().get("time_zone");
            hours = h instanceof String s && !s.isBlank() ? s : hours;
            zone = z instanceof String s && !s.isBlank() ? s : zone;
        }
        LocalTime[] span;
        ZoneId zoneId;
        try {
            span = RuleFile.workingHours(hours, where);
            zoneId = RuleFile.zone(zone, where);
        } catch (IllegalArgumentException bad) {
            span = RuleFile.workingHours(rule.hours(), where);
            zoneId = RuleFile.zone(rule.timeZone(), where);
        }
        Set<DayOfWeek> days = RuleFile.workingDays(rule.days(), where);
        ZonedDateTime at = Instant.ofEpochMilli(now).atZone(zoneId);
        LocalTime t = at.toLocalTime();
        boolean inHours = span[0].isBefore(span[1])
                ? !t.isBefore(span[0]) && t.isBefore(span[1])
                : !t.isBefore(span[0]) || t.isBefore(span[1]); // wraps midnight
        if (inHours && days.contains(at.getDayOfWeek())) {
            return null;
        }
        return new Finding(rule, agentId, "use at " + at.toLocalDateTime().withNano(0) + " " + zoneId + ", outside "
                + span[0] + "-" + span[1], "h" + (now / QUIET.toMillis()), facts("local_time",
                at.toLocalDateTime().withNano(0).toString()));
    }

    private Agent agent(String tenant, String id) {
        return agentCache.computeIfAbsent(tenant + "/" + id, k -> {
            try {
                return agents.find(tenant, id);
            } catch (RuntimeException ex) {
                return Optional.empty();
            }
        }).orElse(null);
    }

    private void act(AnomalyFile file, AuditEntry e, Finding f) {
        RuleFile rule = f.rule();
        RequestMeta meta = new RequestMeta(e.correlationId(), null, e.sourceIp());
        boolean suspended = false;
        if (rule.suspends()) {
            try {
                agents.suspend(e.tenantId(), f.agentId(), "anomaly:" + rule.id() + ": " + f.reason(),
                        new Actor(Actor.Type.SYSTEM, "anomaly:" + rule.id()), meta);
                suspended = true;
            } catch (AgentException ex) {
                // not an agent (an OAuth client), already suspended or revoked: nothing to suspend
                LOG.info("anomaly rule {}: agent {} of tenant {} not suspended: {}", rule.id(), f.agentId(),
                        e.tenantId(), ex.getMessage());
            }
        }
        AuditEvent.Builder b = AuditEvent.of(e.tenantId(), EventTypes.ANOMALY_DETECTED, AuditEvent.Outcome.INFO)
                .agent(f.agentId()).subject(e.subject(), e.subjectIss()).client(e.clientId()).request(meta)
                .actors(e.actor() == null ? List.of() : List.of(e.actor().split(" > ")))
                .detail("rule", rule.id()).detail("kind", rule.kind()).detail("reason", f.reason())
                .detail("actions", rule.actions()).detail("suspended", suspended)
                .detail("trigger_seq", e.seq()).detail("trigger_type", e.type());
        f.facts().forEach(b::detail);
        AuditEntry written = log.append(b.build());
        if (file.webhook() != null) {
            webhook.send(file.webhook(), AnomalyWebhook.body(written, f.agentId(), rule, f.reason(), suspended));
        }
    }

    static String agentOf(AuditEntry e) {
        if (e.agentId() != null && !e.agentId().isEmpty()) {
            return e.agentId();
        }
        if (e.actor() != null && !e.actor().isEmpty()) {
            return e.actor().split(" > ")[0];
        }
        return null;
    }

    private static String prefix(String tenant, RuleFile rule, String agent) {
        return "anomaly:" + tenant + ":" + rule.id() + ":" + agent + ":";
    }

    /** The network of an address: its first {@code v4} / {@code v6} bits, as {@code addr/len}. */
    static String network(String ip, int v4, int v6) {
        try {
            if (!ip.matches("[0-9a-fA-F:.]{2,45}")) {
                return null; // only literal addresses (never a name lookup)
            }
            byte[] b = InetAddress.getByName(ip).getAddress();
            int bits = b.length == 4 ? v4 : v6;
            for (int i = 0; i < b.length; i++) {
                int keep = Math.max(0, Math.min(8, bits - i * 8));
                b[i] = (byte) (b[i] & (0xff << (8 - keep)));
            }
            return InetAddress.getByAddress(b).getHostAddress() + "/" + bits;
        } catch (Exception ex) {
            return null;
        }
    }

    private static Map<String, Object> facts(String k, Object v) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put(k, v);
        return m;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> details(AuditEntry e) {
        if (e.details() == null) {
            return Map.of();
        }
        try {
            return JSON.readValue(e.details(), Map.class);
        } catch (Exception ex) {
            return Map.of();
        }
    }

    static String human(Duration d) {
        long s = d.toSeconds();
        if (s % 86400 == 0) {
            return s / 86400 + "d";
        }
        if (s % 3600 == 0) {
            return s / 3600 + "h";
        }
        if (s % 60 == 0) {
            return s / 60 + "m";
        }
        return s + "s";
    }
}
