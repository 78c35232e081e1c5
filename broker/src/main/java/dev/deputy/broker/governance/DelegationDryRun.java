package dev.deputy.broker.governance;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.deputy.broker.agent.Agent;
import dev.deputy.broker.agent.Agents;
import dev.deputy.broker.audit.AuditEntry;
import dev.deputy.broker.audit.AuditQuery;
import dev.deputy.broker.audit.AuditStore;
import dev.deputy.broker.audit.EventTypes;
import dev.deputy.broker.federation.User;
import dev.deputy.broker.federation.UserStore;
import dev.deputy.broker.policy.Decision;
import dev.deputy.broker.policy.DelegationInput;
import dev.deputy.broker.policy.DelegationPolicy;
import jakarta.inject.Singleton;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * Proposed delegation rules tried on recent token exchanges ("these 14 past exchanges would now be denied"): the
 * tenant's {@code token.exchanged} entries (allowed) and the delegation refusals ({@code policy.decision} entries
 * without a {@code kind}) decided again by the proposed {@link DelegationPolicy}. Read-only.
 *
 * <p>The entries record the agent, the actor chain, the user ({@code sub}, {@code iss}), the resource and the scopes;
 * what they do not record is taken as the broker knows it now: the agent's current roles, and the user's groups, roles
 * and connector from the user's link (their last login's mapping; the exchange itself also used groups and roles
 * carried in the subject token). An allowed exchange is asked again with the scopes it {@code requested} (or, when the
 * request named none, the scopes it was granted).
 */
@Singleton
public class DelegationDryRun {
    static final int MAX_ENTRIES = 10_000;
    /** At most this many changed exchanges are listed (all are counted). */
    static final int MAX_LISTED = 500;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final AuditStore store;
    private final Agents agents;
    private final UserStore users;

    public DelegationDryRun(AuditStore store, Agents agents, UserStore users) {
        this.store = store;
        this.agents = agents;
        this.users = users;
    }

    /** What {@code proposed} would have decided on the exchanges since {@code fromMs} (at most {@code limit} read). */
    public Map<String, Object> run(String tenantId, DelegationPolicy proposed, Long fromMs, int limit) {
        int max = Math.min(Math.max(limit, 1), MAX_ENTRIES);
        Map<String, List<String>> agentRoles = new HashMap<>();
        Map<String, List<User>> links = new HashMap<>();
        List<Map<String, Object>> changes = new ArrayList<>();
        Map<String, Integer> transitions = new LinkedHashMap<>();
        int allow = 0;
        int deny = 0;
        int evaluated = 0;
        int skipped = 0;
        long after = 0;
        boolean more = true;
        while (more && evaluated + skipped < max) {
            AuditQuery q = new AuditQuery(tenantId, fromMs, null, null, null, null, null,
                    List.of(EventTypes.TOKEN_EXCHANGED, EventTypes.POLICY_DECISION), null, null, null, after,
                    Math.min(AuditQuery.MAX_LIMIT, max - evaluated - skipped));
            List<AuditEntry> page = store.query(q);
            more = page.size() == q.limit();
            for (AuditEntry e : page) {
                after = e.seq();
                Map<String, Object> d = details(e);
                boolean exchanged = EventTypes.TOKEN_EXCHANGED.equals(e.type());
                if (d.get("kind") != null || e.agentId() == null || e.subject() == null
                        || (exchanged && !"success".equals(e.outcome()))) {
                    skipped++; // a tool decision, or not an exchange the policy decided
                    continue;
                }
                evaluated++;
                List<String> chain = e.actor() == null || e.actor().isEmpty() ? List.of(e.agentId())
                        : Arrays.asList(e.actor().split(" > "));
                Set<String> scopes = words(exchanged && d.get("requested") != null ? d.get("requested") : e.scopes());
                List<User> user = links.computeIfAbsent(e.subjectIss() + "\u0000" + e.subject(),
                        k -> e.subjectIss() == null ? List.of() : users.findByUpstream(tenantId, e.subjectIss(), e.subject()));
                Set<String> groups = new TreeSet<>();
                Set<String> roles = new TreeSet<>();
                String connector = null;
                for (User u : user) {
                    groups.addAll(u.groups());
                    roles.addAll(u.roles());
                    connector = connector == null ? u.connectorId() : connector;
                }
                List<String> held = agentRoles.computeIfAbsent(e.agentId(),
                        id -> agents.find(tenantId, id).map(Agent::roles).orElse(List.of()));
                Decision now = proposed.decide(new DelegationInput(e.agentId(), held, true, e.subject(), e.subjectIss(),
                        connector, groups, roles, e.resource(), scopes, chain.size()));
                if (now.allowed()) {
                    allow++;
                } else {
                    deny++;
                }
                String before = exchanged ? "allow" : "deny";
                String afterEffect = now.allowed() ? "allow" : "deny";
                if (before.equals(afterEffect)) {
                    continue;
                }
                transitions.merge(before + " -> " + afterEffect, 1, Integer::sum);
                if (changes.size() < MAX_LISTED) {
                    Map<String, Object> c = new LinkedHashMap<>();
                    c.put("seq", e.seq());
                    c.put("at", Instant.ofEpochMilli(e.atMs()).toString());
                    c.put("subject", e.subject());
                    c.put("agent", e.agentId());
                    c.put("actors", chain);
                    c.put("client", e.clientId());
                    c.put("resource", e.resource());
                    c.put("scopes", String.join(" ", scopes));
                    c.put("before", Map.of("effect", before, "rule", String.valueOf(d.get("rule"))));
                    Map<String, Object> a = new LinkedHashMap<>();
                    a.put("effect", afterEffect);
                    a.put("rule", now.ruleId());
                    a.put("reason", now.reason());
                    c.put("after", a);
                    changes.add(c);
                }
            }
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("rules", proposed.rules().stream().map(r -> r.id()).toList());
        out.put("evaluated", evaluated);
        out.put("skipped", skipped);
        out.put("changed", transitions.values().stream().mapToInt(Integer::intValue).sum());
        out.put("would_be", Map.of("allow", allow, "deny", deny));
        out.put("transitions", transitions);
        out.put("changes", changes);
        out.put("complete", !more || evaluated + skipped < max);
        return out;
    }

    private static Set<String> words(Object s) {
        return s == null || s.toString().isBlank() ? Set.of()
                : new LinkedHashSet<>(Arrays.asList(s.toString().strip().split("\\s+")));
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> details(AuditEntry e) {
        try {
            return e.details() == null ? Map.of() : Optional.ofNullable((Map<String, Object>) JSON.readValue(e.details(), Map.class)).orElse(Map.of());
        } catch (Exception ex) {
            return Map.of();
        }
    }
}
