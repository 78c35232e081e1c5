package dev.deputy.broker.governance;

import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.oauth2.sdk.ErrorObject;
import com.nimbusds.oauth2.sdk.OAuth2Error;
import com.nimbusds.oauth2.sdk.http.HTTPRequest;
import dev.deputy.broker.agent.Agent;
import dev.deputy.broker.agent.Resource;
import dev.deputy.broker.audit.AuditEvent;
import dev.deputy.broker.audit.AuditLog;
import dev.deputy.broker.audit.EventTypes;
import dev.deputy.broker.audit.RequestMeta;
import dev.deputy.broker.oauth.AgentDirectory;
import dev.deputy.broker.oauth.AuthenticatedClient;
import dev.deputy.broker.oauth.ClientCertificates;
import dev.deputy.broker.oauth.ClientFrontDoor;
import dev.deputy.broker.oauth.DeputyTokens;
import dev.deputy.broker.oauth.Endpoints;
import dev.deputy.broker.oauth.EndpointResponse;
import dev.deputy.broker.oauth.OAuthException;
import dev.deputy.broker.policy.Policies;
import dev.deputy.broker.tenant.Tenant;
import dev.deputy.policy.Effect;
import dev.deputy.policy.ToolDecision;
import dev.deputy.policy.ToolInput;
import dev.deputy.policy.ToolPolicy;
import jakarta.inject.Singleton;

import java.security.cert.X509Certificate;
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
 * {@code …/evaluations}), behind the {@link ClientFrontDoor}: only a resource server that the tenant's policy names in
 * {@code tools.decision_clients} may ask, and it proves who it is without a credential in the URL (which access logs
 * and proxies keep):
 * <ul>
 *   <li>mTLS ({@code tls_client_auth}, {@code self_signed_tls_client_auth}; RFC 8705 §2): the TLS client certificate
 *       (or the trusted proxy header) with its client id in the {@value #CLIENT_ID_HEADER} header, or, without it, the
 *       agent id of a Deputy-issued certificate's SPIFFE URI SAN;</li>
 *   <li>or {@code Authorization: Bearer} with an access token of its own (RFC 6750 §2.1) from the tenant's token
 *       endpoint by client_credentials (private_key_jwt or mTLS), carrying the scope {@value #SCOPE} and the PDP
 *       identifier (the tenant issuer) as its audience; a certificate-bound token only with its certificate
 *       (RFC 8705 §3).</li>
 * </ul>
 * Client credentials in the query string ({@code client_id}, {@code client_assertion}, {@code access_token}, …) are
 * refused (400), as are a client secret and every other way. Each evaluated item is decided by the tenant's compiled
 * {@link ToolPolicy} (pure, no I/O), after the broker's own check that every agent of the chain is active, and is
 * audited before the answer is sent: a single evaluation as one {@code policy.decision} entry, a batch as one entry per
 * group of items sharing subject, actor chain and resource, holding their {@code decisions} (all of a batch's entries
 * in one group-commit wait).
 */
@Singleton
public class ToolDecisions {
    /** The scope of a decision client's own access token. */
    public static final String SCOPE = "authzen:evaluate";
    /** The header naming an mTLS decision client (its certificate proves it). */
    public static final String CLIENT_ID_HEADER = "Deputy-Client-Id";
    /** How the client proved itself with a bearer token ({@link dev.deputy.broker.oauth.AuthenticatedClient#method}). */
    static final String BEARER = "access_token";
    /** How a decision client must authenticate (RFC 8705 §2, or its own token): never a shared secret. */
    static final Set<String> METHODS = Set.of("tls_client_auth", "self_signed_tls_client_auth", BEARER);
    /** Parameters that carry a client credential and must not be in a URL (RFC 6749 §2.3.1, RFC 6750 §2.3). */
    static final Set<String> QUERY_CREDENTIALS = Set.of("client_id", "client_secret", "client_assertion",
            "client_assertion_type", "access_token");
    static final String INACTIVE_AGENT = "inactive-agent";
    private static final int MAX_AUDIT_ARGUMENTS = 8192;
    private static final java.util.regex.Pattern SPIFFE_AGENT =
            java.util.regex.Pattern.compile("^spiffe://[^/]+/t/([^/]+)/agent/([^/]+)$");

    private final ClientFrontDoor door;
    private final Policies policies;
    private final AgentDirectory agents;
    private final AuditLog audit;
    private final DeputyTokens tokens;
    private final Endpoints endpoints;
    private final Clock clock;
    private ApprovedCalls approved;

    @jakarta.inject.Inject
    public ToolDecisions(ClientFrontDoor door, Policies policies, AgentDirectory agents, AuditLog audit,
                         DeputyTokens tokens, Endpoints endpoints) {
        this(door, policies, agents, audit, tokens, endpoints, Clock.systemUTC());
    }

    /** Set once at start-up: require_approval decisions with an approval token (CIBA). */
    @jakarta.inject.Inject
    void approved(ApprovedCalls approved) {
        this.approved = approved;
    }

    /** The decision, with a require_approval turned into permit by a matching, unused approval token. */
    private Decided decide(String tenantId, ToolPolicy policy, ToolInput in, String approvalToken,
                           Map<List<ToolInput.Actor>, Object> chains) {
        Decided d = decide(tenantId, policy, in, chains);
        return approved == null ? d : approved.apply(tenantId, d, approvalToken);
    }

    ToolDecisions(ClientFrontDoor door, Policies policies, AgentDirectory agents, AuditLog audit, DeputyTokens tokens,
                  Endpoints endpoints, Clock clock) {
        this.door = door;
        this.policies = policies;
        this.agents = agents;
        this.audit = audit;
        this.tokens = tokens;
        this.endpoints = endpoints;
        this.clock = clock;
    }

    /**
     * The form the front door reads the client authentication from: {@code client_id=<id>} for an mTLS client (the
     * {@value #CLIENT_ID_HEADER} header, else the agent of the certificate's SPIFFE id), empty otherwise.
     */
    public static String authenticationForm(String tenantId, String clientIdHeader, X509Certificate certificate) {
        String id = clientIdHeader != null && !clientIdHeader.isBlank() ? clientIdHeader.strip()
                : certificate == null ? null : spiffeAgent(tenantId, certificate);
        return id == null ? "" : "client_id=" + java.net.URLEncoder.encode(id, java.nio.charset.StandardCharsets.UTF_8);
    }

    /** The agent id of a Deputy-issued certificate of this tenant ({@code spiffe://<td>/t/<tenant>/agent/<id>}). */
    static String spiffeAgent(String tenantId, X509Certificate c) {
        try {
            if (c.getSubjectAlternativeNames() == null) {
                return null;
            }
            for (List<?> san : c.getSubjectAlternativeNames()) {
                if (san.size() == 2 && Integer.valueOf(6).equals(san.get(0)) && san.get(1) instanceof String uri) {
                    var m = SPIFFE_AGENT.matcher(uri);
                    if (m.matches() && m.group(1).equals(tenantId)) {
                        return java.net.URLDecoder.decode(m.group(2), java.nio.charset.StandardCharsets.UTF_8);
                    }
                }
            }
        } catch (java.security.cert.CertificateParsingException | IllegalArgumentException e) {
            return null;
        }
        return null;
    }

    /**
     * Serves one request; {@code auth} carries how the client proves itself (the {@link #authenticationForm}, the
     * {@code Authorization} header, the TLS or forwarded client certificate), {@code body} the JSON;
     * {@code queryNames} are the names of the URL's query parameters (credentials there are refused).
     */
    public EndpointResponse handle(Tenant tenant, HTTPRequest auth, byte[] body, boolean batch, RequestMeta meta,
                                   Set<String> queryNames) {
        return door.serve(ClientFrontDoor.Endpoint.DECISIONS, tenant, auth, meta, new ClientFrontDoor.Handler() {
            @Override
            public void precheck(HTTPRequest request) {
                List<String> inQuery = queryNames.stream().filter(QUERY_CREDENTIALS::contains).sorted().toList();
                if (!inQuery.isEmpty()) {
                    // a credential in a URL ends up in access logs, proxies and browser history
                    throw OAuthException.of(OAuth2Error.INVALID_REQUEST, "client credentials are not accepted in the"
                            + " query string (" + String.join(", ", inQuery) + "): authenticate with mTLS or an"
                            + " Authorization: Bearer token (docs/governance.md)", "credentials_in_query");
                }
            }

            @Override
            public AuthenticatedClient authenticate(Tenant t, HTTPRequest request) {
                return bearer(t, request);
            }

            @Override
            public EndpointResponse handle(ClientFrontDoor.Call call) {
                return decideAll(tenant, call, body, batch, meta);
            }
        });
    }

    /**
     * The client an {@code Authorization: Bearer} token proves (null without one: mTLS client authentication then).
     * RFC 6750 §3.1: a token that is not valid is {@code invalid_token} (401), one without the scope
     * {@code insufficient_scope} (403).
     */
    AuthenticatedClient bearer(Tenant tenant, HTTPRequest request) {
        String header = request.getAuthorization();
        if (header == null) {
            return null;
        }
        String[] parts = header.strip().split("\\s+", 2);
        if (parts.length != 2 || !parts[0].equalsIgnoreCase("Bearer")) {
            if (parts[0].equalsIgnoreCase("DPoP")) {
                throw invalidToken("DPoP-bound tokens are not accepted here", "dpop_not_supported");
            }
            return null; // Basic and others: the front door's client authentication (a secret is then refused)
        }
        DeputyTokens.Verdict v = tokens.check(tenant.id(), parts[1].strip());
        if (!v.active()) {
            throw invalidToken("the access token is not active", "token_" + v.inactive());
        }
        JWTClaimsSet c = v.claims();
        if (c.getClaim("act") != null || c.getClaim("sub_id") != null) {
            // RFC 8693 §4.1: a token acting for someone else is not the decision client's own
            throw invalidToken("not a client's own access token", "delegated_token");
        }
        String pdp = Resource.canonical(endpoints.issuer(tenant.id()));
        if (c.getAudience() == null || c.getAudience().stream().noneMatch(a -> Resource.canonical(a).equals(pdp))) {
            throw invalidToken("the access token is not for this decision point", "wrong_audience");
        }
        if (DeputyTokens.keyBinding(c) != null) {
            throw invalidToken("DPoP-bound tokens are not accepted here", "dpop_not_supported");
        }
        String bound = DeputyTokens.certificateBinding(c);
        if (bound != null) {
            X509Certificate presented = request.getClientX509Certificate();
            if (presented == null || !DeputyTokens.heldBy(c, ClientCertificates.thumbprint(presented))) {
                // RFC 8705 §3: a certificate-bound token only with its certificate
                throw invalidToken("certificate-bound token without its certificate", "cnf_mismatch");
            }
        }
        Object scope = c.getClaim("scope");
        if (!(scope instanceof String s) || !List.of(s.strip().split(" +")).contains(SCOPE)) {
            throw OAuthException.of(new ErrorObject("insufficient_scope", "the access token lacks the scope " + SCOPE,
                    403), "the access token lacks the scope " + SCOPE, "scope_missing");
        }
        Object clientId = c.getClaim("client_id");
        String id = clientId instanceof String cid ? cid : c.getSubject();
        return new AuthenticatedClient(id, c.getSubject(), BEARER, bound, false);
    }

    private static OAuthException invalidToken(String description, String reason) {
        return OAuthException.of(new ErrorObject("invalid_token", description, 401), description, reason);
    }

    private EndpointResponse decideAll(Tenant tenant, ClientFrontDoor.Call call, byte[] body, boolean batch,
                                       RequestMeta meta) {
        String client = call.client().clientId();
        if (!METHODS.contains(call.client().method())) {
            throw OAuthException.of(OAuth2Error.UNAUTHORIZED_CLIENT.setHTTPStatusCode(403),
                    "decision clients authenticate with mTLS or an access token of their own",
                    "decision_client_method_" + call.client().method());
        }
        ToolPolicy policy = policies.tools(tenant.id());
        if (!policy.mayAsk(client)) {
            throw OAuthException.of(OAuth2Error.UNAUTHORIZED_CLIENT.setHTTPStatusCode(403),
                    "this client may not ask for decisions", "not_a_decision_client");
        }
        Instant now = clock.instant();
        try {
            Map<String, Object> root = AuthzenRequests.parse(body);
            if (!batch) {
                ToolInput in = AuthzenRequests.evaluation(root, now);
                Decided d = decide(tenant.id(), policy, in, AuthzenRequests.approvalToken(root.get("context")), null);
                return answerOnceDurable(List.of(event(tenant.id(), policy, d, client, meta, null)),
                        answerJson(List.of(d), false));
            }
            AuthzenRequests.Batch b = AuthzenRequests.evaluations(root, now);
            if (b.items() == null) { // no evaluations: one evaluation, answered as such (AuthZEN §7.1)
                Decided d = decide(tenant.id(), policy, b.single(), AuthzenRequests.approvalToken(root.get("context")),
                        null);
                return answerOnceDurable(List.of(event(tenant.id(), policy, d, client, meta, null)),
                        answerJson(List.of(d), false));
            }
            List<Object> answers = new ArrayList<>(b.items().size());
            // one entry per group of items sharing subject, actor chain and resource (docs/governance.md, "Audit")
            Map<Group, List<Indexed>> groups = new LinkedHashMap<>();
            Map<List<ToolInput.Actor>, Object> chains = new java.util.HashMap<>();
            int i = 0;
            for (AuthzenRequests.Item item : b.items()) {
                if (item.error() != null) {
                    answers.add(item.error());
                } else {
                    Decided d = decide(tenant.id(), policy, item.input(), item.approvalToken(), chains);
                    answers.add(d);
                    groups.computeIfAbsent(Group.of(d.input()), g -> new ArrayList<>(4)).add(new Indexed(i, d));
                    boolean permitted = d.decision().permitted();
                    if (b.semantic() == AuthzenRequests.Semantic.DENY_ON_FIRST_DENY && !permitted
                            || b.semantic() == AuthzenRequests.Semantic.PERMIT_ON_FIRST_PERMIT && permitted) {
                        break; // AuthZEN §7.1.2: stop here; the answer has the items up to this one
                    }
                }
                i++;
            }
            List<AuditEvent> events = new ArrayList<>(groups.size());
            for (List<Indexed> group : groups.values()) {
                events.add(group.size() == 1
                        ? event(tenant.id(), policy, group.get(0).decided(), client, meta, group.get(0).index())
                        : groupEvent(tenant.id(), policy, group, client, meta));
            }
            return answerOnceDurable(events, answerJson(answers, true));
        } catch (AuthzenRequests.Malformed e) {
            throw OAuthException.of(OAuth2Error.INVALID_REQUEST, printable(e.getMessage()), "malformed_request");
        }
    }

    /**
     * The answer, sent once the decisions' entries are durable (all of a batch in one group-commit wait): the entries
     * are queued here, and nothing waits on this thread (the audit writer completes the answer).
     */
    private EndpointResponse answerOnceDurable(List<AuditEvent> events, byte[] json) {
        EndpointResponse ok = EndpointResponse.okJson(json);
        if (events.isEmpty()) {
            return ok;
        }
        return EndpointResponse.later(audit.appendAllAsync(events).thenApply(sealed -> ok));
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
        return decide(tenantId, policy, in, (Map<List<ToolInput.Actor>, Object>) null);
    }

    /**
     * As {@link #decide(String, ToolPolicy, ToolInput)}; {@code chains} (a batch's, or null) remembers, per actor chain
     * as the request named it, the chain with the registry's environments (or the inactive agent's denial), so the
     * items of a batch acting through the same chain look its agents up once and share one chain.
     */
    Decided decide(String tenantId, ToolPolicy policy, ToolInput in, Map<List<ToolInput.Actor>, Object> chains) {
        if (in.actors().isEmpty()) {
            return new Decided(in, policy.decide(in));
        }
        Object known = chains == null ? null : chains.get(in.actors());
        if (known == null) {
            known = chain(tenantId, in.actors());
            if (chains != null) {
                chains.put(in.actors(), known);
            }
        }
        if (known instanceof ToolDecision inactive) {
            return new Decided(in, inactive);
        }
        @SuppressWarnings("unchecked")
        List<ToolInput.Actor> actors = (List<ToolInput.Actor>) known;
        ToolInput enriched = new ToolInput(in.subject(), actors, in.tool(), in.server(), in.arguments(), in.time(),
                in.source());
        return new Decided(enriched, policy.decide(enriched));
    }

    /** The chain with each registered agent's environment, or the denial when one of them is not active. */
    private Object chain(String tenantId, List<ToolInput.Actor> chain) {
        List<ToolInput.Actor> actors = new ArrayList<>(chain.size());
        for (ToolInput.Actor a : chain) {
            Optional<Agent> agent = Agent.ID.matcher(a.id()).matches() ? agents.agent(tenantId, a.id())
                    : Optional.empty();
            if (agent.isPresent() && agent.get().status() != Agent.Status.ACTIVE) {
                Map<String, Object> used = new LinkedHashMap<>();
                used.put("actors", chain.stream().map(ToolInput.Actor::id).toList());
                return new ToolDecision(Effect.DENY, INACTIVE_AGENT, "agent " + a.id() + " is "
                        + agent.get().status().wire(), used);
            }
            actors.add(new ToolInput.Actor(a.id(), agent.map(Agent::environment).orElse(null)));
        }
        return List.copyOf(actors);
    }

    private static final com.fasterxml.jackson.core.JsonFactory JSON = AuthzenRequests.JSON;
    private static final String NOT_ALLOWED = "this call is not allowed by the organisation's policy";

    /**
     * The answer's JSON, written once with Jackson's generator (no map, no databind): a single evaluation's decision
     * ({@code answers} of one, {@code batch} false) or the {@code evaluations} array of a batch. Each answer is a
     * {@link Decided} or an item's error message (a String).
     */
    static byte[] answerJson(List<?> answers, boolean batch) {
        com.fasterxml.jackson.core.util.ByteArrayBuilder out = new com.fasterxml.jackson.core.util.ByteArrayBuilder(
                batch ? 160 * answers.size() + 32 : 192);
        try (com.fasterxml.jackson.core.JsonGenerator g = JSON.createGenerator(out)) {
            if (batch) {
                g.writeStartObject();
                g.writeArrayFieldStart("evaluations");
            }
            for (Object a : answers) {
                if (a instanceof Decided d) {
                    answer(g, d);
                } else {
                    itemError(g, (String) a);
                }
            }
            if (batch) {
                g.writeEndArray();
                g.writeEndObject();
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e); // a byte buffer does not fail
        }
        return out.toByteArray();
    }

    /**
     * The AuthZEN decision: {@code decision} true only for permit; the context says which effect, rule and why
     * ({@code {"decision": …, "context": {"effect", "rule", "reason_admin": {"en"}, "reason_user": {"en"}}}}, the
     * user's reason for require_approval and deny only).
     */
    private static void answer(com.fasterxml.jackson.core.JsonGenerator g, Decided d) throws java.io.IOException {
        ToolDecision t = d.decision();
        g.writeStartObject();
        g.writeBooleanField("decision", t.permitted());
        g.writeObjectFieldStart("context");
        g.writeStringField("effect", t.effect().value());
        if (t.rule() != null) {
            g.writeStringField("rule", t.rule());
        }
        g.writeObjectFieldStart("reason_admin");
        g.writeStringField("en", t.reason());
        g.writeEndObject();
        if (t.effect() == Effect.REQUIRE_APPROVAL) {
            g.writeObjectFieldStart("reason_user");
            g.writeStringField("en", "this call needs the approval of " + d.input().subject().id());
            g.writeEndObject();
        } else if (t.effect() == Effect.DENY) {
            g.writeObjectFieldStart("reason_user");
            g.writeStringField("en", NOT_ALLOWED);
            g.writeEndObject();
        }
        g.writeEndObject();
        g.writeEndObject();
    }

    /** An item that could not be read, answered in its place (AuthZEN §7.2.1). */
    private static void itemError(com.fasterxml.jackson.core.JsonGenerator g, String message) throws java.io.IOException {
        g.writeStartObject();
        g.writeBooleanField("decision", false);
        g.writeObjectFieldStart("context");
        g.writeObjectFieldStart("error");
        g.writeNumberField("status", 400);
        g.writeStringField("message", message);
        g.writeEndObject();
        g.writeEndObject();
        g.writeEndObject();
    }

    /** The {@code policy.decision} entry: tool, rule, effect, the chain, and the arguments minus the sensitive ones. */
    static AuditEvent event(String tenantId, ToolPolicy policy, Decided d, String client, RequestMeta meta, Integer index) {
        ToolInput in = d.input();
        ToolDecision t = d.decision();
        List<String> chain = in.actors().stream().map(ToolInput.Actor::id).toList();
        List<String> envs = in.actors().stream().map(a -> a.environment() == null ? "-" : a.environment()).toList();
        Map<String, Object> args = auditArguments(policy, in);
        AuditEvent.Builder b = decisionEntry(tenantId, t.permitted(), in, chain, client, meta)
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

    /** A batch item's decision and its place in the request. */
    record Indexed(int index, Decided decided) {
    }

    /**
     * What the items of one batched entry share: the subject (with its groups and attributes), the actor chain (with
     * the agents' environments), the resource, the time and the source; the rest is per item.
     */
    record Group(ToolInput.Subject subject, List<ToolInput.Actor> actors, String server, Instant time, String source) {
        static Group of(ToolInput in) {
            return new Group(in.subject(), in.actors(), in.server(), in.time(), in.source());
        }
    }

    /**
     * The {@code policy.decision} entry of a group of batch items ({@link Group}): the shared parts once, and a
     * {@code decisions} array with each item's index, tool, effect, rule, reason, the arguments as the policy saw them
     * minus the sensitive ones, the inputs the deciding rule used, and its approval token's {@code jti}. The entry's
     * outcome is {@code allow} only when every decision in it is a permit.
     */
    static AuditEvent groupEvent(String tenantId, ToolPolicy policy, List<Indexed> group, String client,
                                 RequestMeta meta) {
        ToolInput first = group.get(0).decided().input();
        List<String> chain = first.actors().stream().map(ToolInput.Actor::id).toList();
        List<String> envs = first.actors().stream().map(a -> a.environment() == null ? "-" : a.environment()).toList();
        boolean allPermitted = true;
        List<Map<String, Object>> items = new ArrayList<>(group.size());
        for (Indexed x : group) {
            ToolInput in = x.decided().input();
            ToolDecision t = x.decided().decision();
            allPermitted &= t.permitted();
            Map<String, Object> item = new LinkedHashMap<>(16);
            item.put("index", x.index());
            item.put("tool", in.tool());
            item.put("effect", t.effect().value());
            if (t.rule() != null) {
                item.put("rule", t.rule());
            }
            item.put("reason", t.reason());
            item.put("arguments", auditArguments(policy, in));
            item.put("inputs", policy.auditInputs(t.inputs()));
            if (x.decided().approvalJti() != null) {
                item.put("approval_jti", x.decided().approvalJti());
            }
            if (x.decided().approvalRefused() != null) {
                item.put("approval_refused", x.decided().approvalRefused());
            }
            items.add(item);
        }
        return decisionEntry(tenantId, allPermitted, first, chain, client, meta)
                .detail("decision_client", client)
                .detail("subject_type", first.subject().type())
                .detail("subject_groups", first.subject().groups().isEmpty() ? null : List.copyOf(first.subject().groups()))
                .detail("subject_attributes", first.subject().attributes().isEmpty() ? null : first.subject().attributes())
                .detail("actor_environments", envs.isEmpty() ? null : envs)
                .detail("source_ip", first.source())
                .detail("decision_time", first.time() == null ? null : first.time().toString())
                .detail(dev.deputy.broker.audit.PolicyDecisions.DECISIONS, items)
                .build();
    }

    /** The arguments as the policy saw them minus the sensitive ones, or a note when they are too large to keep. */
    private static Map<String, Object> auditArguments(ToolPolicy policy, ToolInput in) {
        Map<String, Object> args = policy.auditArguments(in.arguments());
        if (textLength(args, MAX_AUDIT_ARGUMENTS) > MAX_AUDIT_ARGUMENTS) {
            return Map.of("omitted", "arguments larger than " + MAX_AUDIT_ARGUMENTS + " characters");
        }
        return args;
    }

    /**
     * The length of {@code v.toString()} for the plain values a JSON body gives (maps, lists, strings, numbers,
     * booleans, null), counted without building the text; stops counting once past {@code limit}.
     */
    static long textLength(Object v, long limit) {
        if (v == null) {
            return 4;
        }
        if (v instanceof String s) {
            return s.length();
        }
        if (v instanceof Map<?, ?> m) {
            long n = 2 + Math.max(0, 2L * (m.size() - 1));
            for (Map.Entry<?, ?> e : m.entrySet()) {
                Object k = e.getKey();
                Object x = e.getValue();
                n += textLength(k == m ? "(this Map)" : k, limit - n) + 1
                        + textLength(x == m ? "(this Map)" : x, limit - n);
                if (n > limit) {
                    return n;
                }
            }
            return n;
        }
        if (v instanceof java.util.Collection<?> c) {
            long n = 2 + Math.max(0, 2L * (c.size() - 1));
            for (Object x : c) {
                n += textLength(x == c ? "(this Collection)" : x, limit - n);
                if (n > limit) {
                    return n;
                }
            }
            return n;
        }
        return String.valueOf(v).length();
    }

    /** RFC 6749 §5.2's character set for descriptions (the front door's error object carries the message). */
    static String printable(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (char c : s.toCharArray()) {
            b.append(c >= 0x20 && c <= 0x7e && c != '"' && c != '\\' ? c : ' ');
        }
        return b.toString();
    }

    /** A policy.decision entry's who and where: subject, actor chain (its first agent), decision client, server. */
    private static AuditEvent.Builder decisionEntry(String tenantId, boolean permitted, ToolInput in, List<String> chain,
                                                    String client, RequestMeta meta) {
        return AuditEvent.of(tenantId, EventTypes.POLICY_DECISION,
                        permitted ? AuditEvent.Outcome.ALLOW : AuditEvent.Outcome.DENY)
                .subject(in.subject().id(), null)
                .actors(chain)
                .agent(!chain.isEmpty() ? chain.get(0) : "agent".equals(in.subject().type()) ? in.subject().id() : null)
                .client(client)
                .resource(in.server())
                .request(meta)
                .detail("kind", "tool");
    }
}
