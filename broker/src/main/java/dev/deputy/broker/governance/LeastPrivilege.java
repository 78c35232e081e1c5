package dev.deputy.broker.governance;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.deputy.broker.agent.Agent;
import dev.deputy.broker.agent.Agents;
import dev.deputy.broker.agent.Catalog;
import dev.deputy.broker.agent.Role;
import dev.deputy.broker.audit.AuditEntry;
import dev.deputy.broker.audit.AuditQuery;
import dev.deputy.broker.audit.AuditStore;
import dev.deputy.broker.audit.EventTypes;
import dev.deputy.broker.audit.PolicyDecisions;
import dev.deputy.broker.policy.Policies;
import dev.deputy.policy.ToolGrant;
import jakarta.inject.Singleton;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The least-privilege report of an agent (docs/governance.md): the scopes its roles grant versus the scopes it used
 * (tokens issued to it, exchanged or refreshed for it, as the acting agent or on its own), and the tools the tenant's
 * tool policy grants it ({@link dev.deputy.policy.ToolPolicy#grantsTo}) versus the tools it used (successful tool-call
 * reports and permitted {@code policy.decision}s) over a window of the audit trail, with the role change and the tool
 * rule change that would remove what it never used. Only successful entries count as use; a refusal is not use.
 */
@Singleton
public class LeastPrivilege {
    static final List<String> USE = List.of(EventTypes.TOKEN_ISSUED, EventTypes.TOKEN_EXCHANGED,
            EventTypes.TOKEN_REFRESHED, EventTypes.TOOL_CALL, EventTypes.POLICY_DECISION);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int PAGE = AuditQuery.MAX_LIMIT;

    private final Agents agents;
    private final Catalog catalog;
    private final AuditStore audit;
    private final Policies policies;

    public LeastPrivilege(Agents agents, Catalog catalog, AuditStore audit, Policies policies) {
        this.agents = agents;
        this.catalog = catalog;
        this.audit = audit;
        this.policies = policies;
    }

    /** Use of one scope or tool: how many entries (tool-call reports), permitted decisions, the last one's time. */
    record Use(long count, long permits, long lastMs) {
        Use add(Use u) {
            return new Use(count + u.count, permits + u.permits, Math.max(lastMs, u.lastMs));
        }
    }

    /** The report of every agent of the tenant that is not revoked, by id. */
    public List<Map<String, Object>> all(String tenant, long fromMs, long toMs) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (Agent a : agents.list(tenant, null, false, null, toMs)) {
            if (a.status() != Agent.Status.REVOKED) {
                out.add(report(tenant, a, fromMs, toMs));
            }
        }
        return out;
    }

    public Map<String, Object> report(String tenant, String agentId, long fromMs, long toMs) {
        return report(tenant, agents.get(tenant, agentId), fromMs, toMs);
    }

    Map<String, Object> report(String tenant, Agent agent, long fromMs, long toMs) {
        Map<String, Role> roles = new LinkedHashMap<>();
        for (String name : agent.roles()) {
            catalog.findRole(tenant, name).ifPresent(r -> roles.put(name, r));
        }
        TreeSet<String> granted = new TreeSet<>();
        roles.values().stream().filter(r -> r.appliesIn(agent.environment())).forEach(r -> granted.addAll(r.scopes()));

        Map<String, Use> scopes = new TreeMap<>();
        Map<String, Use> tools = new TreeMap<>();
        long examined = 0;
        AuditQuery q = new AuditQuery(tenant, fromMs, toMs, null, agent.id(), null, null, USE, null, null, null, 0, PAGE);
        while (true) {
            List<AuditEntry> page = audit.query(q);
            for (AuditEntry e : page) {
                boolean decision = EventTypes.POLICY_DECISION.equals(e.type());
                if (!agent.id().equals(AnomalyDetector.agentOf(e)) || "failure".equals(e.outcome())) {
                    continue; // the agent appears deeper in the chain (an earlier actor), or the call failed
                }
                if (decision) {
                    // each decision of the entry (a batch's entry holds several): the permitted ones are uses
                    Map<String, Object> d = details(e);
                    boolean counted = false;
                    for (Map<String, Object> one : d.containsKey(PolicyDecisions.DECISIONS) ? PolicyDecisions.of(d)
                            : "allow".equals(e.outcome()) ? List.of(d) : List.<Map<String, Object>>of()) {
                        Object tool = one.get("tool");
                        if (tool != null && (one == d || PolicyDecisions.permitted(one))) {
                            tools.merge(tool.toString(), new Use(0, 1, e.atMs()), Use::add);
                            counted = true;
                        }
                    }
                    if (counted) {
                        examined++;
                    }
                    continue;
                }
                examined++;
                if (EventTypes.TOOL_CALL.equals(e.type())) {
                    Object tool = details(e).get("tool");
                    if (tool != null) {
                        tools.merge(tool.toString(), new Use(1, 0, e.atMs()), Use::add);
                    }
                } else if (e.scopes() != null) {
                    for (String s : e.scopes().trim().split(" +")) {
                        if (!s.isEmpty()) {
                            scopes.merge(s, new Use(1, 0, e.atMs()), Use::add);
                        }
                    }
                }
            }
            if (page.size() < q.limit()) {
                break;
            }
            q = q.after(page.get(page.size() - 1).seq());
        }

        TreeSet<String> used = new TreeSet<>(scopes.keySet());
        used.retainAll(granted);
        TreeSet<String> unused = new TreeSet<>(granted);
        unused.removeAll(scopes.keySet());

        Map<String, Object> m = new LinkedHashMap<>();
        m.put("agent", agent.id());
        m.put("name", agent.name());
        m.put("status", agent.status().wire());
        m.put("environment", agent.environment());
        m.put("since", Instant.ofEpochMilli(fromMs).toString());
        m.put("until", Instant.ofEpochMilli(toMs).toString());
        m.put("entries_examined", examined);
        List<Map<String, Object>> roleViews = new ArrayList<>();
        for (String name : agent.roles()) {
            Role r = roles.get(name);
            Map<String, Object> rv = new LinkedHashMap<>();
            rv.put("role", name);
            rv.put("exists", r != null);
            rv.put("applies", r != null && r.appliesIn(agent.environment()));
            rv.put("scopes", r == null ? List.of() : new TreeSet<>(r.scopes()));
            roleViews.add(rv);
        }
        m.put("roles", roleViews);
        m.put("scopes_granted", List.copyOf(granted));
        m.put("scopes_used", List.copyOf(used));
        m.put("scopes_unused", List.copyOf(unused));
        m.put("scope_use", uses(scopes, "scope", false));
        List<ToolGrant> grants = policies.tools(tenant).grantsTo(agent.id(), agent.environment());
        List<Map<String, Object>> grantViews = new ArrayList<>();
        TreeSet<String> toolsUnused = new TreeSet<>();
        List<Map<String, Object>> toolRules = new ArrayList<>();
        for (ToolGrant g : grants) {
            List<String> usedHere = tools.keySet().stream().filter(g::covers).toList();
            Map<String, Object> gv = new LinkedHashMap<>();
            gv.put("rule", g.rule());
            gv.put("effect", g.effect().value());
            gv.put("tools", g.tools());
            gv.put("ways", g.ways());
            gv.put("conditions", g.conditions());
            gv.put("tools_used", usedHere);
            grantViews.add(gv);
            List<String> keep = new ArrayList<>();
            List<String> drop = new ArrayList<>();
            for (String pattern : g.tools()) {
                (tools.keySet().stream().anyMatch(t -> ToolGrant.covers(pattern, t)) ? keep : drop).add(pattern);
            }
            toolsUnused.addAll(drop);
            toolRules.add(toolRule(agent, g, keep, drop));
        }
        m.put("tools_granted", grantViews);
        m.put("tools_used", uses(tools, "tool", true));
        m.put("tools_unused", List.copyOf(toolsUnused));
        m.put("tools_used_without_grant", tools.keySet().stream().filter(t -> grants.stream().noneMatch(g -> g.covers(t)))
                .toList());
        Map<String, Object> rec = recommend(agent, roles, scopes.keySet(), unused);
        rec.put("unused_tools", List.copyOf(toolsUnused));
        rec.put("tool_rules", toolRules);
        rec.put("tool_change_needed", toolRules.stream().anyMatch(t -> !"keep".equals(t.get("change"))));
        m.put("recommendation", rec);
        return m;
    }

    /**
     * The change to one granting rule: {@code keep} (every tool of it used), {@code narrow} (a rule holding only the
     * used tools replaces it for this agent), {@code exclude} (none used: the agent need not match the rule) — with
     * what to edit.
     */
    static Map<String, Object> toolRule(Agent agent, ToolGrant g, List<String> keep, List<String> drop) {
        Map<String, Object> t = new LinkedHashMap<>();
        t.put("rule", g.rule());
        String change = drop.isEmpty() ? "keep" : keep.isEmpty() ? "exclude" : "narrow";
        t.put("change", change);
        t.put("keep_tools", keep);
        t.put("drop_tools", drop);
        String how;
        if ("keep".equals(change)) {
            how = null;
        } else if (dev.deputy.policy.ToolDecision.DEFAULT_RULE.equals(g.rule())) {
            how = "the tenant default " + g.effect().value() + " grants every tool: set tools.default: deny and "
                    + (keep.isEmpty() ? "grant no tool to " + agent.id() : "permit the used tools by rule");
        } else if (g.namesAgent()) {
            how = "exclude".equals(change) ? "take " + agent.id() + " out of rule " + g.rule()
                    : "take " + agent.id() + " out of rule " + g.rule() + " and name it in a rule for " + keep;
        } else {
            how = "rule " + g.rule() + " reaches " + agent.id() + " without naming it: narrow its actors.agents (or"
                    + " subject.ids)" + ("exclude".equals(change) ? " so that it no longer matches " + agent.id()
                    : " and name " + agent.id() + " in a rule for " + keep);
        }
        t.put("how", how);
        return t;
    }

    /**
     * The role change: a role none of whose scopes were used is removed; a role with some used and some unused
     * scopes is narrowed (a role holding only its used scopes replaces it); roles that do not apply in the agent's
     * environment, or do not exist, grant nothing and are removed.
     */
    static Map<String, Object> recommend(Agent agent, Map<String, Role> roles, java.util.Set<String> usedAny,
                                         java.util.Set<String> unused) {
        List<String> remove = new ArrayList<>();
        List<Map<String, Object>> narrow = new ArrayList<>();
        List<String> keep = new ArrayList<>();
        for (String name : agent.roles()) {
            Role r = roles.get(name);
            if (r == null || !r.appliesIn(agent.environment())) {
                remove.add(name);
                continue;
            }
            TreeSet<String> rUsed = new TreeSet<>(r.scopes());
            rUsed.retainAll(usedAny);
            TreeSet<String> rUnused = new TreeSet<>(r.scopes());
            rUnused.removeAll(usedAny);
            if (rUsed.isEmpty()) {
                remove.add(name);
            } else if (!rUnused.isEmpty()) {
                Map<String, Object> n = new LinkedHashMap<>();
                n.put("role", name);
                n.put("keep_scopes", List.copyOf(rUsed));
                n.put("drop_scopes", List.copyOf(rUnused));
                narrow.add(n);
            } else {
                keep.add(name);
            }
        }
        Map<String, Object> rec = new LinkedHashMap<>();
        rec.put("unused_scopes", List.copyOf(unused));
        rec.put("remove_roles", remove);
        rec.put("narrow_roles", narrow);
        rec.put("keep_roles", keep);
        rec.put("change_needed", !remove.isEmpty() || !narrow.isEmpty());
        return rec;
    }

    private static List<Map<String, Object>> uses(Map<String, Use> uses, String key, boolean permits) {
        List<Map<String, Object>> out = new ArrayList<>();
        uses.forEach((k, u) -> {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put(key, k);
            m.put("count", u.count());
            if (permits) {
                m.put("permits", u.permits());
            }
            m.put("last_used", Instant.ofEpochMilli(u.lastMs()).toString());
            out.add(m);
        });
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
}
