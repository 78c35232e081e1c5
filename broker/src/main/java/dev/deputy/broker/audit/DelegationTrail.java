package dev.deputy.broker.audit;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The delegation chain behind an audit entry, read back from the trail alone: user → agent → agent → … → tool.
 * Each token entry names the token it made ({@code jti}); a {@code token.exchanged} entry also names the token it
 * exchanged ({@code subject_jti}), its scopes (granted; {@code requested} in the details) and the delegation rule that
 * allowed it; a refused exchange is a {@code policy.decision} (deny) naming its rule and {@code subject_jti}; a
 * {@code tool.call} names the token it was made with ({@code token_jti}); a tool decision ({@code policy.decision},
 * {@code kind: tool}) names the user, the actors, the tool and its rule. So, from any of these entries:
 * <ol>
 *   <li>backwards: the token entry it stands on, then the token each exchange exchanged, through the user's
 *       {@code token.*} entries (the {@code (tenant, subject, seq)} index, read newest first, at most
 *       {@link #WINDOW} entries);</li>
 *   <li>forwards from the first hop found: the later exchanges of those tokens, refused exchanges, tool calls made
 *       with them, and tool decisions for the same user and actors (at most {@link #WINDOW} entries);</li>
 *   <li>the entries sharing the entry's correlation id (a caller that propagates {@code traceparent} ties its whole
 *       request chain together), at most {@link #CORRELATED}.</li>
 * </ol>
 * Pure reading: nothing is written.
 */
public final class DelegationTrail {
    /** How many of the user's entries are read in each direction. */
    public static final int WINDOW = 5_000;
    public static final int CORRELATED = 200;
    private static final int PAGE = 500;
    /** Added to a token lifetime when the reads are bounded in time: the clocks of several nodes differ a little. */
    public static final long SKEW_MS = 300_000;
    private static final List<String> TOKEN_TYPES = List.of(EventTypes.TOKEN_ISSUED, EventTypes.TOKEN_EXCHANGED,
            EventTypes.TOKEN_REFRESHED);
    private static final List<String> LATER_TYPES = List.of(EventTypes.TOKEN_EXCHANGED, EventTypes.TOOL_CALL,
            EventTypes.POLICY_DECISION);

    private DelegationTrail() {
    }

    /**
     * One step of the chain: the agent that acted ({@code actor}, the current actor of the entry), the chain after the
     * step (current actor first), the scopes granted (and requested), the rule that allowed (or refused) it.
     */
    public record Hop(AuditEntry entry, String actor, List<String> chain, String scopes, String requested, String rule,
                      String reason, String jti, String parentJti, Long parentSeq, boolean refused) {
    }

    /** A tool call made with one of the chain's tokens ({@code tokenSeq}: the hop whose token it used). */
    public record ToolCall(AuditEntry entry, String tool, String status, Long tokenSeq) {
    }

    /** A tool decision for the same user and actors as one of the hops (AuthZEN, {@code kind: tool}). */
    public record ToolDecision(AuditEntry entry, String tool, String effect, String rule, String reason) {
    }

    /**
     * @param rootJti   the token the first hop exchanged when it has no entry here (minted before the trail, archived,
     *                  or an upstream token: then {@code rootUpstream})
     * @param truncated a window was read to its end before the chain was complete
     */
    public record Trail(String subject, String subjectIss, List<Hop> hops, String rootJti, boolean rootUpstream,
                        List<ToolCall> toolCalls, List<ToolDecision> toolDecisions, List<AuditEntry> correlated,
                        boolean truncated) {
        public boolean empty() {
            return hops.isEmpty() && toolCalls.isEmpty() && toolDecisions.isEmpty();
        }
    }

    /** The trail without a time bound: only the {@link #WINDOW}s bound the reads. */
    public static Trail of(AuditStore store, AuditEntry e) {
        return of(store, e, null);
    }

    /**
     * The trail, with the reads bounded in time as well as by the {@link #WINDOW}s: a token is exchanged or used only
     * while it is valid, so the token an exchange stood on was issued at most {@code tokenLifetime} (the tenant's
     * access token lifetime, which caps every access token it mints) before it, and a token's later exchanges, tool
     * calls and tool decisions come at most that long after it was issued ({@link #SKEW_MS} added for the clocks of
     * several nodes). On a busy user's trail this reads the hour around the entry instead of up to 2 × {@value
     * #WINDOW} entries. A token minted before its tenant's lifetime was lowered may fall outside: its chain then
     * shows as rooted outside the trail, as it would past the window.
     *
     * @param tokenLifetime null: no time bound
     */
    public static Trail of(AuditStore store, AuditEntry e, java.time.Duration tokenLifetime) {
        long horizon = tokenLifetime == null ? -1 : tokenLifetime.toMillis() + SKEW_MS;
        Map<String, Object> d = details(e);
        String subject = e.subject();
        boolean truncated = false;
        List<Hop> hops = new ArrayList<>();
        List<ToolCall> calls = new ArrayList<>();
        List<ToolDecision> decisions = new ArrayList<>();
        String wanted = null;
        if (TOKEN_TYPES.contains(e.type()) && str(d.get("jti")) != null) {
            hops.add(hop(e, d, false));
            wanted = parentJti(e, d);
        } else if (EventTypes.TOOL_CALL.equals(e.type())) {
            wanted = str(d.get("token_jti"));
        } else if (EventTypes.POLICY_DECISION.equals(e.type()) && !"tool".equals(d.get("kind"))) {
            hops.add(hop(e, d, true));
            wanted = str(d.get("subject_jti"));
        }
        // backwards through the user's token entries: the token each step stands on
        String rootJti = null;
        boolean rootUpstream = hops.size() == 1 && "upstream".equals(details(hops.get(0).entry()).get("subject_kind"));
        if (subject != null && wanted != null) {
            long before = e.seq();
            // the oldest time the wanted token can have been issued at: a lifetime before the entry that used it
            Long notBefore = horizon < 0 ? null : e.atMs() - horizon;
            int read = 0;
            while (wanted != null && read < WINDOW) {
                AuditQuery q = new AuditQuery(e.tenantId(), notBefore, null, subject, null, null, null, TOKEN_TYPES, null,
                        null, null, 0, PAGE);
                List<AuditEntry> page = store.queryNewestFirst(q, before);
                boolean moved = false;
                for (AuditEntry t : page) {
                    Map<String, Object> td = details(t);
                    if (wanted != null && wanted.equals(str(td.get("jti")))) {
                        hops.add(0, hop(t, td, false));
                        rootUpstream = "upstream".equals(td.get("subject_kind"));
                        wanted = parentJti(t, td);
                        if (notBefore != null) {
                            notBefore = t.atMs() - horizon; // its own parent: a lifetime before this hop
                            moved = true;
                        }
                    }
                }
                read += page.size();
                if (page.size() < PAGE && !moved) {
                    break;
                }
                if (!page.isEmpty()) {
                    before = page.get(page.size() - 1).seq();
                }
            }
            truncated = wanted != null && read >= WINDOW;
            rootJti = wanted;
        }
        // forwards from the first step: later hops of these tokens, tool calls made with them, tool decisions
        Map<String, Long> tokens = new LinkedHashMap<>();
        Set<String> chains = new HashSet<>();
        Set<Long> seen = new HashSet<>();
        for (Hop h : hops) {
            if (h.jti() != null) {
                tokens.put(h.jti(), h.entry().seq());
            }
            chains.add(String.join(" > ", h.chain()));
            seen.add(h.entry().seq());
        }
        if (EventTypes.TOOL_CALL.equals(e.type()) && str(d.get("token_jti")) != null) {
            tokens.putIfAbsent(str(d.get("token_jti")), null);
        }
        if (e.actor() != null) {
            chains.add(e.actor());
        }
        long from = hops.isEmpty() ? e.seq() - 1 : hops.get(0).entry().seq();
        if (subject != null && (!tokens.isEmpty() || !chains.isEmpty())) {
            // the newest time one of the chain's tokens can still be used at: a lifetime after the newest of them
            long newest = e.atMs();
            for (Hop h : hops) {
                newest = Math.max(newest, h.entry().atMs());
            }
            Long notAfter = horizon < 0 ? null : newest + horizon;
            long after = from;
            int read = 0;
            while (read < WINDOW) {
                AuditQuery q = new AuditQuery(e.tenantId(), null, notAfter == null ? null : notAfter + 1, subject, null,
                        null, null, LATER_TYPES, null, null, null, after, PAGE);
                List<AuditEntry> page = store.query(q);
                boolean moved = false;
                for (AuditEntry t : page) {
                    if (seen.contains(t.seq())) {
                        continue;
                    }
                    Map<String, Object> td = details(t);
                    switch (t.type()) {
                        case EventTypes.TOKEN_EXCHANGED -> {
                            if (tokens.containsKey(str(td.get("subject_jti")))) {
                                Hop h = hop(t, td, false);
                                hops.add(h);
                                tokens.put(h.jti(), t.seq());
                                chains.add(String.join(" > ", h.chain()));
                                if (notAfter != null && t.atMs() + horizon > notAfter) {
                                    notAfter = t.atMs() + horizon; // the new token lives a lifetime from here
                                    moved = true;
                                }
                            }
                        }
                        case EventTypes.TOOL_CALL -> {
                            String jti = str(td.get("token_jti"));
                            if (jti != null && tokens.containsKey(jti)) {
                                calls.add(new ToolCall(t, str(td.get("tool")), str(td.get("status")), tokens.get(jti)));
                            }
                        }
                        default -> {
                            if ("tool".equals(td.get("kind"))) {
                                if (t.actor() != null && chains.contains(t.actor())) {
                                    for (Map<String, Object> one : PolicyDecisions.of(td)) { // a batch's: several
                                        decisions.add(new ToolDecision(t, str(one.get("tool")), str(one.get("effect")),
                                                str(one.get("rule")), str(one.get("reason"))));
                                    }
                                }
                            } else if (tokens.containsKey(str(td.get("subject_jti")))) {
                                hops.add(hop(t, td, true));
                            }
                        }
                    }
                }
                read += page.size();
                if (page.size() < PAGE && !moved) {
                    break;
                }
                if (!page.isEmpty()) {
                    after = page.get(page.size() - 1).seq();
                }
            }
            truncated |= read >= WINDOW;
        }
        hops.sort(Comparator.comparingLong(h -> h.entry().seq()));
        List<Hop> linked = new ArrayList<>(hops.size());
        Map<String, Long> seqOf = new LinkedHashMap<>();
        for (Hop h : hops) {
            linked.add(new Hop(h.entry(), h.actor(), h.chain(), h.scopes(), h.requested(), h.rule(), h.reason(), h.jti(),
                    h.parentJti(), h.parentJti() == null ? null : seqOf.get(h.parentJti()), h.refused()));
            if (h.jti() != null) {
                seqOf.put(h.jti(), h.entry().seq());
            }
        }
        List<AuditEntry> correlated = e.correlationId() == null ? List.of()
                : store.query(new AuditQuery(e.tenantId(), null, null, null, null, null, null, null, null,
                e.correlationId(), null, 0, CORRELATED));
        return new Trail(subject, e.subjectIss(), List.copyOf(linked), rootJti, rootUpstream, List.copyOf(calls),
                List.copyOf(decisions), correlated, truncated);
    }

    private static Hop hop(AuditEntry t, Map<String, Object> d, boolean refused) {
        List<String> chain = t.actorChain();
        String actor = t.agentId() != null ? t.agentId() : !chain.isEmpty() ? chain.get(0) : t.clientId();
        return new Hop(t, actor, chain, t.scopes(), joined(d.get("requested")), str(d.get("rule")),
                str(d.get("reason")), refused ? null : str(d.get("jti")), refused ? str(d.get("subject_jti")) : parentJti(t, d),
                null, refused);
    }

    /** The Deputy token an exchange exchanged (an upstream subject token has no entry here). */
    private static String parentJti(AuditEntry t, Map<String, Object> d) {
        return EventTypes.TOKEN_EXCHANGED.equals(t.type()) && !"upstream".equals(d.get("subject_kind"))
                ? str(d.get("subject_jti")) : null;
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> details(AuditEntry e) {
        return AuditEntryView.details(e.details()) instanceof Map<?, ?> m ? (Map<String, Object>) m : Map.of();
    }

    private static String str(Object o) {
        return o == null ? null : o.toString();
    }

    private static String joined(Object o) {
        if (o instanceof List<?> l) {
            return String.join(" ", l.stream().map(String::valueOf).toList());
        }
        return str(o);
    }
}
