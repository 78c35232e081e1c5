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
 * (tokens issued to it, exchanged or refreshed for it, as the acting agent or on its own) and the tools it called
 * (tool-call reports) over a window of the audit trail, with the role change that would remove what it never used.
 * Only successful entries count as use; a refusal is not use.
 */
@Singleton
public class LeastPrivilege {
    static final List<String> USE = List.of(EventTypes.TOKEN_ISSUED, EventTypes.TOKEN_EXCHANGED,
            EventTypes.TOKEN_REFRESHED, EventTypes.TOOL_CALL);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int PAGE = AuditQuery.MAX_LIMIT;

    private final Agents agents;
    private final Catalog catalog;
    private final AuditStore audit;

    public LeastPrivilege(Agents agents, Catalog catalog, AuditStore audit) {
        this.agents = agents;
        this.catalog = catalog;
        this.audit = audit;
    }

    /** Use of one scope or tool: how many entries, the last one's time. */
    record Use(long count, long lastMs) {
        Use add(long atMs) {
            return new Use(count + 1, Math.max(lastMs, atMs));
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
                if (!agent.id().equals(AnomalyDetector.agentOf(e)) || "failure".equals(e.outcome())) {
                    continue; // the agent appears deeper in the chain (an earlier actor), or the call failed
                }
                examined++;
                if (EventTypes.TOOL_CALL.equals(e.type())) {
                    Object tool = details(e).get("tool");
                    if (tool != null) {
                        tools.merge(tool.toString(), new Use(1, e.atMs()), (a, b) -> a.add(e.atMs()));
                    }
                } else if (e.scopes() != null) {
                    for (String s : e.scopes().trim().split(" +")) {
                        if (!s.isEmpty()) {
                            scopes.merge(s, new Use(1, e.atMs()), (a, b) -> a.add(e.atMs()));
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
        m.put("scope_use", uses(scopes, "scope"));
        m.put("tools_used", uses(tools, "tool"));
        m.put("recommendation", recommend(agent, roles, scopes.keySet(), unused));
        return m;
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

    private static List<Map<String, Object>> uses(Map<String, Use> uses, String key) {
        List<Map<String, Object>> out = new ArrayList<>();
        uses.forEach((k, u) -> {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put(key, k);
            m.put("count", u.count());
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
