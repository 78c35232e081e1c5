package dev.deputy.broker.governance;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.deputy.broker.audit.AuditEntry;
import dev.deputy.broker.audit.AuditQuery;
import dev.deputy.broker.audit.AuditStore;
import dev.deputy.broker.audit.EventTypes;
import dev.deputy.broker.audit.PolicyDecisions;
import dev.deputy.policy.Effect;
import dev.deputy.policy.ToolDecision;
import dev.deputy.policy.ToolInput;
import dev.deputy.policy.ToolInputs;
import dev.deputy.policy.ToolPolicy;
import jakarta.inject.Singleton;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;

/**
 * A policy change tried on recent traffic: the tool decisions of the audit trail ({@code policy.decision} entries of
 * kind {@code tool}, which hold the input as the policy saw it) decided again by a proposed policy, and the calls whose
 * effect would change ("these N past tool calls would now be denied"). Read-only; arguments marked sensitive were
 * never recorded, so a proposed rule on them sees them as absent (and fails closed). Decisions made by the broker's
 * own checks ({@code inactive-agent}) are not policy decisions and are skipped.
 */
@Singleton
public class DecisionDryRun {
    static final int MAX_ENTRIES = 10_000;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final AuditStore store;

    public DecisionDryRun(AuditStore store) {
        this.store = store;
    }

    /** One past decision whose effect would change. */
    public record Change(long seq, String at, String tool, String server, String subject, List<String> actors,
                         String beforeEffect, String beforeRule, String afterEffect, String afterRule) {
    }

    /** What the proposed policy would have done to the decisions since {@code fromMs} (at most {@code limit} read). */
    public Map<String, Object> run(String tenantId, ToolPolicy proposed, Long fromMs, int limit) {
        int max = Math.min(Math.max(limit, 1), MAX_ENTRIES);
        List<Change> changes = new ArrayList<>();
        Map<Effect, Integer> now = new EnumMap<>(Effect.class);
        Map<String, Integer> transitions = new LinkedHashMap<>();
        int evaluated = 0;
        int skipped = 0;
        long after = 0;
        boolean more = true;
        while (more && evaluated + skipped < max) {
            AuditQuery q = new AuditQuery(tenantId, fromMs, null, null, null, null, null, List.of(EventTypes.POLICY_DECISION),
                    null, null, null, after, Math.min(AuditQuery.MAX_LIMIT, max - evaluated - skipped));
            List<AuditEntry> page = store.query(q);
            more = page.size() == q.limit();
            for (AuditEntry e : page) {
                after = e.seq();
                Map<String, Object> entry = details(e);
                if (!PolicyDecisions.tool(entry)) {
                    skipped++;
                    continue;
                }
                // each decision of the entry (a batch's entry holds several, PolicyDecisions)
                for (Map<String, Object> d : PolicyDecisions.of(entry)) {
                    if (ToolDecisions.INACTIVE_AGENT.equals(d.get("rule"))) {
                        skipped++;
                        continue;
                    }
                    ToolInput in;
                    try {
                        in = input(e, d);
                    } catch (RuntimeException ex) {
                        skipped++;
                        continue;
                    }
                    evaluated++;
                    ToolDecision decided = proposed.decide(in);
                    now.merge(decided.effect(), 1, Integer::sum);
                    String before = String.valueOf(d.get("effect"));
                    if (!before.equals(decided.effect().value())) {
                        transitions.merge(before + " -> " + decided.effect().value(), 1, Integer::sum);
                        if (changes.size() < 500) {
                            changes.add(new Change(e.seq(), Instant.ofEpochMilli(e.atMs()).toString(), in.tool(), in.server(),
                                    in.subject().id(), in.actors().stream().map(ToolInput.Actor::id).toList(), before,
                                    String.valueOf(d.get("rule")), decided.effect().value(), decided.rule()));
                        }
                    }
                }
            }
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("evaluated", evaluated);
        out.put("skipped", skipped);
        out.put("changed", transitions.values().stream().mapToInt(Integer::intValue).sum());
        Map<String, Object> wouldBe = new LinkedHashMap<>();
        for (Effect f : Effect.values()) {
            wouldBe.put(f.value(), now.getOrDefault(f, 0));
        }
        out.put("would_be", wouldBe);
        out.put("transitions", transitions);
        List<Map<String, Object>> list = new ArrayList<>();
        for (Change c : changes) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("seq", c.seq());
            m.put("at", c.at());
            m.put("tool", c.tool());
            m.put("server", c.server());
            m.put("subject", c.subject());
            m.put("actors", c.actors());
            m.put("before", Map.of("effect", c.beforeEffect(), "rule", c.beforeRule()));
            m.put("after", Map.of("effect", c.afterEffect(), "rule", c.afterRule()));
            list.add(m);
        }
        out.put("changes", list);
        out.put("complete", !more || evaluated + skipped < max);
        return out;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> details(AuditEntry e) {
        try {
            return e.details() == null ? Map.of() : JSON.readValue(e.details(), Map.class);
        } catch (Exception ex) {
            return Map.of();
        }
    }

    /** The decision input as the entry recorded it (minus sensitive arguments, which were never written). */
    @SuppressWarnings("unchecked")
    static ToolInput input(AuditEntry e, Map<String, Object> d) {
        List<String> chain = e.actor() == null || e.actor().isEmpty() ? List.of() : Arrays.asList(e.actor().split(" > "));
        List<String> envs = d.get("actor_environments") instanceof List<?> l ? (List<String>) l : List.of();
        List<ToolInput.Actor> actors = new ArrayList<>();
        for (int i = 0; i < chain.size(); i++) {
            String env = i < envs.size() ? envs.get(i) : null;
            actors.add(new ToolInput.Actor(chain.get(i), env == null || env.equals("-") ? null : env));
        }
        List<String> groups = d.get("subject_groups") instanceof List<?> g ? (List<String>) g : List.of();
        Map<String, Object> attributes = d.get("subject_attributes") instanceof Map<?, ?> a ? (Map<String, Object>) a : Map.of();
        Map<String, Object> args = d.get("arguments") instanceof Map<?, ?> a ? (Map<String, Object>) a : Map.of();
        Object type = d.get("subject_type");
        Object time = d.get("decision_time");
        Object source = d.get("source_ip");
        return new ToolInput(new ToolInput.Subject(type == null ? "user" : type.toString(), e.subject(),
                new LinkedHashSet<>(groups), attributes), actors, String.valueOf(d.get("tool")), e.resource(), args,
                time == null ? Instant.ofEpochMilli(e.atMs()) : ToolInputs.instant(time.toString()),
                source == null ? null : source.toString());
    }
}
