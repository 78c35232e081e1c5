package dev.deputy.broker.governance;

import com.fasterxml.jackson.databind.JsonNode;
import com.nimbusds.oauth2.sdk.OAuth2Error;
import com.nimbusds.oauth2.sdk.http.HTTPRequest;
import dev.deputy.broker.agent.Agent;
import dev.deputy.broker.audit.AuditEvent;
import dev.deputy.broker.audit.AuditLog;
import dev.deputy.broker.audit.EventTypes;
import dev.deputy.broker.audit.RequestMeta;
import dev.deputy.broker.oauth.AgentDirectory;
import dev.deputy.broker.oauth.ClientFrontDoor;
import dev.deputy.broker.oauth.EndpointResponse;
import dev.deputy.broker.oauth.OAuthException;
import dev.deputy.broker.policy.Policies;
import dev.deputy.broker.tenant.Tenant;
import dev.deputy.policy.Effect;
import dev.deputy.policy.ToolDecision;
import dev.deputy.policy.ToolInput;
import dev.deputy.policy.ToolPolicy;
import jakarta.inject.Singleton;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The OpenID AuthZEN Authorization API 1.0 decision endpoints of a tenant ({@code <issuer>/access/v1/evaluation} and
 * {@code …/evaluations}), behind the {@link ClientFrontDoor}: only a resource server that authenticated with mTLS
 * ({@code tls_client_auth}, {@code self_signed_tls_client_auth}) or {@code private_key_jwt} and that the tenant's
 * policy names in {@code tools.decision_clients} may ask. Each evaluated item is decided by the tenant's compiled
 * {@link ToolPolicy} (pure, no I/O), after the broker's own check that every agent of the chain is active, and is
 * written as one {@code policy.decision} entry (all of a batch in one group-commit wait) before the answer is sent.
 */
@Singleton
public class ToolDecisions {
    /** How a decision client must authenticate (RFC 8705 §2, RFC 7523): never a shared secret. */
    static final Set<String> METHODS = Set.of("tls_client_auth", "self_signed_tls_client_auth", "private_key_jwt");
    static final String INACTIVE_AGENT = "inactive-agent";
    private static final int MAX_AUDIT_ARGUMENTS = 8192;

    private final ClientFrontDoor door;
    private final Policies policies;
    private final AgentDirectory agents;
    private final AuditLog audit;
    private final Clock clock;
    private ApprovedCalls approved;

    public ToolDecisions(ClientFrontDoor door, Policies policies, AgentDirectory agents, AuditLog audit) {
        this(door, policies, agents, audit, Clock.systemUTC());
    }

    /** Set once at start-up: require_approval decisions with an approval token (CIBA). */
    @jakarta.inject.Inject
    void approved(ApprovedCalls approved) {
        this.approved = approved;
    }

    /** The decision, with a require_approval turned into permit by a matching, unused approval token. */
    private Decided decide(String tenantId, ToolPolicy policy, ToolInput in, String approvalToken) {
        Decided d = decide(tenantId, policy, in);
        return approved == null ? d : approved.apply(tenantId, d, approvalToken);
    }

    ToolDecisions(ClientFrontDoor door, Policies policies, AgentDirectory agents, AuditLog audit, Clock clock) {
        this.door = door;
        this.policies = policies;
        this.agents = agents;
        this.audit = audit;
        this.clock = clock;
    }

    /**
     * Serves one request; {@code auth} carries the client authentication (the query's {@code client_id} /
     * {@code client_assertion*} as a form, and the TLS or forwarded client certificate), {@code body} the JSON.
     */
    public EndpointResponse handle(Tenant tenant, HTTPRequest auth, String body, boolean batch, RequestMeta meta) {
        return door.serve(ClientFrontDoor.Endpoint.DECISIONS, tenant, auth, meta, call -> {
            String client = call.client().clientId();
            if (!METHODS.contains(call.client().method())) {
                throw OAuthException.of(OAuth2Error.UNAUTHORIZED_CLIENT.setHTTPStatusCode(403),
                        "decision clients authenticate with mTLS or private_key_jwt", "decision_client_method_"
                                + call.client().method());
            }
            ToolPolicy policy = policies.tools(tenant.id());
            if (!policy.mayAsk(client)) {
                throw OAuthException.of(OAuth2Error.UNAUTHORIZED_CLIENT.setHTTPStatusCode(403),
                        "this client may not ask for decisions", "not_a_decision_client");
            }
            Instant now = clock.instant();
            try {
                JsonNode root = AuthzenRequests.parse(body);
                if (!batch) {
                    ToolInput in = AuthzenRequests.evaluation(root, now);
                    Decided d = decide(tenant.id(), policy, in, AuthzenRequests.approvalToken(root.get("context")));
                    audit.append(event(tenant.id(), policy, d, client, meta, null));
                    return EndpointResponse.ok(answer(d));
                }
                AuthzenRequests.Batch b = AuthzenRequests.evaluations(root, now);
                if (b.items() == null) { // no evaluations: one evaluation, answered as such (AuthZEN §7.1)
                    Decided d = decide(tenant.id(), policy, b.single(), AuthzenRequests.approvalToken(root.get("context")));
                    audit.append(event(tenant.id(), policy, d, client, meta, null));
                    return EndpointResponse.ok(answer(d));
                }
                List<Map<String, Object>> answers = new ArrayList<>(b.items().size());
                List<AuditEvent> events = new ArrayList<>(b.items().size());
                int i = 0;
                for (AuthzenRequests.Item item : b.items()) {
                    if (item.error() != null) {
                        answers.add(itemError(item.error()));
                    } else {
                        Decided d = decide(tenant.id(), policy, item.input(), item.approvalToken());
                        answers.add(answer(d));
                        events.add(event(tenant.id(), policy, d, client, meta, i));
                        boolean permitted = d.decision().permitted();
                        if (b.semantic() == AuthzenRequests.Semantic.DENY_ON_FIRST_DENY && !permitted
                                || b.semantic() == AuthzenRequests.Semantic.PERMIT_ON_FIRST_PERMIT && permitted) {
                            break; // AuthZEN §7.1.2: stop here; the answer has the items up to this one
                        }
                    }
                    i++;
                }
                audit.appendAll(events);
                Map<String, Object> out = new LinkedHashMap<>();
                out.put("evaluations", answers);
                return EndpointResponse.ok(out);
            } catch (AuthzenRequests.Malformed e) {
                throw OAuthException.of(OAuth2Error.INVALID_REQUEST, printable(e.getMessage()), "malformed_request");
            }
        });
    }

    /**
     * A decision and the input it was made on (agents' environments filled in from the registry); with an approval
     * token (CIBA), its {@code jti} and, when it did not count, why.
     */
    record Decided(ToolInput input, ToolDecision decision, String approvalJti, String approvalRefused) {
        Decided(ToolInput input, ToolDecision decision) {
            this(input, decision, null, null);
        }
    }

    /**
     * The broker's own check first — every agent of the chain registered here must be active (a suspended agent's
     * calls stop at once, whatever the policy says) — then the tenant's policy. Agents' environments come from the
     * registry (the read-through cache of the token path), never from the caller.
     */
    Decided decide(String tenantId, ToolPolicy policy, ToolInput in) {
        ToolInput enriched = in;
        if (!in.actors().isEmpty()) {
            List<ToolInput.Actor> actors = new ArrayList<>(in.actors().size());
            for (ToolInput.Actor a : in.actors()) {
                Optional<Agent> agent = Agent.ID.matcher(a.id()).matches() ? agents.agent(tenantId, a.id())
                        : Optional.empty();
                if (agent.isPresent() && agent.get().status() != Agent.Status.ACTIVE) {
                    Map<String, Object> used = new LinkedHashMap<>();
                    used.put("actors", in.actors().stream().map(ToolInput.Actor::id).toList());
                    return new Decided(in, new ToolDecision(Effect.DENY, INACTIVE_AGENT, "agent " + a.id() + " is "
                            + agent.get().status().wire(), used));
                }
                actors.add(new ToolInput.Actor(a.id(), agent.map(Agent::environment).orElse(null)));
            }
            enriched = new ToolInput(in.subject(), actors, in.tool(), in.server(), in.arguments(), in.time(), in.source());
        }
        return new Decided(enriched, policy.decide(enriched));
    }

    /** The AuthZEN decision: {@code decision} true only for permit; the context says which effect, rule and why. */
    static Map<String, Object> answer(Decided d) {
        ToolDecision t = d.decision();
        Map<String, Object> ctx = new LinkedHashMap<>();
        ctx.put("effect", t.effect().value());
        ctx.put("rule", t.rule());
        ctx.put("reason_admin", Map.of("en", t.reason()));
        if (t.effect() == Effect.REQUIRE_APPROVAL) {
            ctx.put("reason_user", Map.of("en", "this call needs the approval of " + d.input().subject().id()));
        } else if (t.effect() == Effect.DENY) {
            ctx.put("reason_user", Map.of("en", "this call is not allowed by the organisation's policy"));
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("decision", t.permitted());
        out.put("context", ctx);
        return out;
    }

    /** An item that could not be read, answered in its place (AuthZEN §7.2.1). */
    static Map<String, Object> itemError(String message) {
        Map<String, Object> err = new LinkedHashMap<>();
        err.put("status", 400);
        err.put("message", message);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("decision", false);
        out.put("context", Map.of("error", err));
        return out;
    }

    /** The {@code policy.decision} entry: tool, rule, effect, the chain, and the arguments minus the sensitive ones. */
    static AuditEvent event(String tenantId, ToolPolicy policy, Decided d, String client, RequestMeta meta, Integer index) {
        ToolInput in = d.input();
        ToolDecision t = d.decision();
        List<String> chain = in.actors().stream().map(ToolInput.Actor::id).toList();
        List<String> envs = in.actors().stream().map(a -> a.environment() == null ? "-" : a.environment()).toList();
        Map<String, Object> args = policy.auditArguments(in.arguments());
        if (args.toString().length() > MAX_AUDIT_ARGUMENTS) {
            args = Map.of("omitted", "arguments larger than " + MAX_AUDIT_ARGUMENTS + " characters");
        }
        AuditEvent.Builder b = AuditEvent.of(tenantId, EventTypes.POLICY_DECISION,
                        t.permitted() ? AuditEvent.Outcome.ALLOW : AuditEvent.Outcome.DENY)
                .subject(in.subject().id(), null)
                .actors(chain)
                .agent(!chain.isEmpty() ? chain.get(0) : "agent".equals(in.subject().type()) ? in.subject().id() : null)
                .client(client)
                .resource(in.server())
                .request(meta)
                .detail("kind", "tool")
                .detail("tool", in.tool())
                .detail("effect", t.effect().value())
                .detail("rule", t.rule())
                .detail("reason", t.reason())
                .detail("arguments", args)
                .detail("inputs", policy.auditInputs(t.inputs()))
                .detail("decision_client", client)
                .detail("subject_type", in.subject().type())
                .detail("subject_groups", in.subject().groups().isEmpty() ? null : List.copyOf(in.subject().groups()))
                .detail("subject_attributes", in.subject().attributes().isEmpty() ? null : in.subject().attributes())
                .detail("actor_environments", envs.isEmpty() ? null : envs)
                .detail("source_ip", in.source())
                .detail("decision_time", in.time() == null ? null : in.time().toString())
                .detail("batch_index", index)
                .detail("approval_jti", d.approvalJti())
                .detail("approval_refused", d.approvalRefused());
        return b.build();
    }

    /** RFC 6749 §5.2's character set for descriptions (the front door's error object carries the message). */
    static String printable(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (char c : s.toCharArray()) {
            b.append(c >= 0x20 && c <= 0x7e && c != '"' && c != '\\' ? c : ' ');
        }
        return b.toString();
    }
}
