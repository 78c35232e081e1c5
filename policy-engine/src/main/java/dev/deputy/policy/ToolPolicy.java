package dev.deputy.policy;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A tenant's tool policy, compiled at load: a pure function from {@link ToolInput} to {@link ToolDecision} (no I/O,
 * no parsing per call, no shared mutable state).
 *
 * <p>Combining: a matching deny rule decides (the first in file order); otherwise a matching require_approval rule;
 * otherwise a matching permit rule; otherwise the tenant's default ({@code tools.default}, deny unless a file says
 * otherwise). A condition whose input is missing or of the wrong kind ({@link Outcome#UNDETERMINED}) counts as a match
 * in deny and require_approval rules and as no match in permit rules: failing closed.
 */
public final class ToolPolicy {
    public static final ToolPolicy DENY_ALL = new ToolPolicy(List.of(), Effect.DENY, Set.of(), Set.of());

    private final List<CompiledRule> rules;
    private final Effect defaultEffect;
    private final Set<String> sensitive;
    private final Set<String> decisionClients;

    private ToolPolicy(List<CompiledRule> rules, Effect defaultEffect, Set<String> sensitive, Set<String> decisionClients) {
        this.rules = List.copyOf(rules);
        this.defaultEffect = defaultEffect;
        this.sensitive = Set.copyOf(sensitive);
        this.decisionClients = Set.copyOf(decisionClients);
    }

    /**
     * The policy of a tenant's {@code tools:} sections (its policy files in name order). Throws
     * {@link IllegalArgumentException} on a duplicate rule id or files that disagree on {@code default}.
     */
    public static ToolPolicy of(List<ToolsSection> sections) {
        List<CompiledRule> rules = new ArrayList<>();
        Set<String> ids = new HashSet<>();
        Effect def = null;
        Set<String> sensitive = new LinkedHashSet<>();
        Set<String> clients = new LinkedHashSet<>();
        for (ToolsSection s : sections) {
            if (s == null) {
                continue;
            }
            if (s.defaultEffect() != null) {
                if (def != null && def != s.defaultEffect()) {
                    throw new IllegalArgumentException("tools.default is set differently in another policy file");
                }
                def = s.defaultEffect();
            }
            sensitive.addAll(s.sensitiveArguments());
            clients.addAll(s.decisionClients());
            for (ToolsSection.Rule r : s.rules()) {
                if (!ids.add(r.id())) {
                    throw new IllegalArgumentException("duplicate tool rule id '" + r.id() + "'");
                }
                rules.add(CompiledRule.compile(r));
            }
        }
        return new ToolPolicy(rules, def == null ? Effect.DENY : def, sensitive, clients);
    }

    public Effect defaultEffect() {
        return defaultEffect;
    }

    public int size() {
        return rules.size();
    }

    public List<String> ruleIds() {
        return rules.stream().map(r -> r.id).toList();
    }

    /** The arguments named {@code sensitive_arguments}: left out of audit entries. */
    public Set<String> sensitiveArguments() {
        return sensitive;
    }

    /** Whether this client (a resource server) may ask for decisions. */
    public boolean mayAsk(String clientId) {
        return decisionClients.contains(clientId);
    }

    public Set<String> decisionClients() {
        return decisionClients;
    }

    public ToolDecision decide(ToolInput in) {
        CompiledRule approval = null;
        CompiledRule permit = null;
        for (CompiledRule r : rules) {
            if (r.effect == Effect.PERMIT ? permit != null || approval != null
                    : r.effect == Effect.REQUIRE_APPROVAL && approval != null) {
                continue; // an earlier rule of this effect already matched; only a deny can still change the answer
            }
            if (matches(r, in, null) != Outcome.NO_MATCH) {
                switch (r.effect) {
                    case DENY:
                        return decision(r, in);
                    case REQUIRE_APPROVAL:
                        approval = r;
                        break;
                    default:
                        permit = r;
                }
            }
        }
        if (approval != null) {
            return decision(approval, in);
        }
        if (permit != null) {
            return decision(permit, in);
        }
        return defaultDecision(in);
    }

    /**
     * The tools this policy grants an agent (running in {@code environment}): every permit or require_approval rule
     * that a call by the agent can match — as the actor of a user's call (its {@code actors} conditions admit the
     * agent, a chain of depth 1 or more, and the subject may be a user) or on its own (no actor condition that needs a
     * chain, the subject may be an agent and its {@code ids} admit the agent) — with the conditions that remain, in
     * file order; then the tenant default when it is not deny. Deny rules are not subtracted (they narrow calls, not
     * tools, unless unconditional). Static: it reads the rules as written, no input.
     */
    public List<ToolGrant> grantsTo(String agentId, String environment) {
        List<ToolGrant> out = new ArrayList<>();
        for (CompiledRule r : rules) {
            if (r.effect == Effect.DENY || r.written == null) {
                continue;
            }
            ToolsSection.Rule w = r.written;
            ToolsSection.SubjectMatch s = w.subject();
            ToolsSection.ActorsMatch a = w.actors();
            boolean userSubject = s == null || s.type() == null || "user".equals(s.type());
            boolean agentSubject = s == null || s.type() == null || "agent".equals(s.type());
            boolean forUsers = userSubject && (a == null
                    || (a.agents().isEmpty() || new Glob(a.agents(), "actors.agents").matches(agentId))
                    && (a.environments().isEmpty() || environment != null && a.environments().contains(environment))
                    && (a.maxDepth() == null || a.maxDepth() >= 1));
            boolean alone = agentSubject && (s == null || (s.ids().isEmpty()
                    || new Glob(s.ids(), "subject.ids").matches(agentId)) && s.groups().isEmpty() && s.attributes().isEmpty())
                    && (a == null || a.agents().isEmpty() && a.environments().isEmpty()
                    && (a.minDepth() == null || a.minDepth() == 0));
            if (!forUsers && !alone) {
                continue;
            }
            List<String> ways = new ArrayList<>();
            if (forUsers) {
                ways.add(ToolGrant.FOR_USERS);
            }
            if (alone) {
                ways.add(ToolGrant.ALONE);
            }
            List<String> conditions = new ArrayList<>();
            if (!w.servers().isEmpty()) {
                conditions.add("servers " + w.servers());
            }
            if (forUsers && s != null) {
                if (!s.ids().isEmpty()) {
                    conditions.add("subject.ids " + s.ids());
                }
                if (!s.groups().isEmpty()) {
                    conditions.add("subject.groups any of " + s.groups());
                }
                new java.util.TreeMap<>(s.attributes()).forEach((k, v) -> conditions.add("subject.attributes." + k + " " + v));
            }
            if (a != null && a.minDepth() != null && a.minDepth() > 1) {
                conditions.add("actors.depth >= " + a.minDepth());
            }
            conditions.addAll(w.when());
            if (w.time() != null) {
                ToolsSection.TimeWindow t = w.time();
                conditions.add("time " + (t.days().isEmpty() ? "" : t.days() + " ") + (t.hours() == null ? "" : t.hours() + " ")
                        + (t.zone() == null ? "UTC" : t.zone()));
            }
            if (!w.source().isEmpty()) {
                conditions.add("source " + w.source());
            }
            boolean names = a != null && a.agents().contains(agentId) || s != null && s.ids().contains(agentId);
            out.add(new ToolGrant(r.id, r.effect, w.tools(), ways, conditions, names));
        }
        if (defaultEffect != Effect.DENY) {
            out.add(new ToolGrant(ToolDecision.DEFAULT_RULE, defaultEffect, List.of("*"),
                    List.of(ToolGrant.FOR_USERS, ToolGrant.ALONE), List.of(), false));
        }
        return out;
    }

    /** {@link #decide} with every rule's every check traced (no short cuts), for explanations. */
    public Explanation explain(ToolInput in) {
        List<Explanation.RuleTrace> traces = new ArrayList<>();
        for (CompiledRule r : rules) {
            List<Explanation.CheckTrace> checks = new ArrayList<>();
            Outcome o = matches(r, in, checks);
            String result = o == Outcome.NO_MATCH ? "not matched"
                    : o == Outcome.UNDETERMINED ? "matched (fail closed: an input it needs is missing or not comparable)"
                    : "matched";
            traces.add(new Explanation.RuleTrace(r.id, r.effect, result, r.description, checks));
        }
        return new Explanation(decide(in), defaultEffect, traces);
    }

    /**
     * MATCH, NO_MATCH, or UNDETERMINED (some check undetermined, none failed) — which a deny or require_approval rule
     * counts as a match; a permit rule's undetermined check is NO_MATCH. Stops at the first failing check unless
     * tracing.
     */
    private static Outcome matches(CompiledRule r, ToolInput in, List<Explanation.CheckTrace> trace) {
        Outcome result = Outcome.MATCH;
        for (Check c : r.checks) {
            Object v = c.read(in);
            Outcome o = c.test(v, in);
            if (o == Outcome.UNDETERMINED && r.effect == Effect.PERMIT) {
                o = Outcome.NO_MATCH;
            }
            if (trace != null) {
                trace.add(new Explanation.CheckTrace(c.input, v, c.expected, o.value()));
            }
            if (o == Outcome.NO_MATCH) {
                if (trace == null) {
                    return Outcome.NO_MATCH;
                }
                result = Outcome.NO_MATCH;
            } else if (o == Outcome.UNDETERMINED && result == Outcome.MATCH) {
                result = Outcome.UNDETERMINED;
            }
        }
        return result;
    }

    private static ToolDecision decision(CompiledRule r, ToolInput in) {
        String reason = switch (r.effect) {
            case DENY -> "denied by rule " + r.id;
            case REQUIRE_APPROVAL -> "rule " + r.id + " requires a person's approval";
            default -> "permitted by rule " + r.id;
        };
        if (r.description != null && !r.description.isBlank()) {
            reason += ": " + r.description;
        }
        return new ToolDecision(r.effect, r.id, reason, r.inputs(in));
    }

    private ToolDecision defaultDecision(ToolInput in) {
        Map<String, Object> used = new LinkedHashMap<>();
        used.put("tool", in.tool());
        used.put("server", in.server());
        return new ToolDecision(defaultEffect, ToolDecision.DEFAULT_RULE,
                "no tool rule matched " + in.tool() + "; the tenant default is " + defaultEffect.value(), used);
    }

    /** The arguments as the policy saw them, minus the sensitive ones (top-level names or dotted paths). */
    public Map<String, Object> auditArguments(Map<String, Object> args) {
        if (args == null || args.isEmpty()) {
            return Map.of();
        }
        if (sensitive.isEmpty()) {
            return args;
        }
        return strip(args, "");
    }

    private Map<String, Object> strip(Map<String, Object> args, String prefix) {
        Map<String, Object> out = new LinkedHashMap<>();
        for (Map.Entry<String, Object> e : args.entrySet()) {
            String path = prefix + e.getKey();
            if (sensitive.contains(path)) {
                continue;
            }
            if (e.getValue() instanceof Map<?, ?> m && prefix.length() < 512) {
                @SuppressWarnings("unchecked")
                Map<String, Object> sub = (Map<String, Object>) m;
                out.put(e.getKey(), strip(sub, path + "."));
            } else {
                out.put(e.getKey(), e.getValue());
            }
        }
        return out;
    }

    /** The inputs a decision used, minus sensitive arguments (for the audit entry). */
    public Map<String, Object> auditInputs(Map<String, Object> inputs) {
        if (sensitive.isEmpty()) {
            return inputs;
        }
        Map<String, Object> out = new LinkedHashMap<>();
        inputs.forEach((k, v) -> {
            if (!k.startsWith("arguments.")) {
                out.put(k, v);
                return;
            }
            String path = k.substring("arguments.".length());
            if (!sensitive.contains(path)) {
                @SuppressWarnings("unchecked")
                Object shown = v instanceof Map<?, ?> m ? strip((Map<String, Object>) m, path + ".") : v;
                out.put(k, shown);
            }
        });
        return out;
    }
}
