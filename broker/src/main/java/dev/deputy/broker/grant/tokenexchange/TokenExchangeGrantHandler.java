package dev.deputy.broker.grant.tokenexchange;

import com.nimbusds.oauth2.sdk.ErrorObject;
import com.nimbusds.oauth2.sdk.GrantType;
import com.nimbusds.oauth2.sdk.OAuth2Error;
import com.nimbusds.oauth2.sdk.Scope;
import com.nimbusds.oauth2.sdk.token.TokenTypeURI;
import com.nimbusds.oauth2.sdk.tokenexchange.TokenExchangeGrant;
import com.nimbusds.jwt.JWTClaimsSet;
import dev.deputy.broker.agent.Agent;
import dev.deputy.broker.agent.Resource;
import dev.deputy.broker.agent.Role;
import dev.deputy.broker.audit.AuditEvent;
import dev.deputy.broker.audit.AuditLog;
import dev.deputy.broker.audit.EventTypes;
import dev.deputy.broker.federation.TenantConnectors;
import dev.deputy.broker.federation.User;
import dev.deputy.broker.federation.UserStore;
import dev.deputy.broker.oauth.AgentDirectory;
import dev.deputy.broker.oauth.AgentTokenState;
import dev.deputy.broker.oauth.GrantHandler;
import dev.deputy.broker.oauth.OAuthException;
import dev.deputy.broker.oauth.TokenContext;
import dev.deputy.broker.oauth.TokenResult;
import dev.deputy.broker.policy.Decision;
import dev.deputy.broker.policy.DelegationInput;
import dev.deputy.broker.policy.Policies;
import dev.deputy.broker.token.AccessTokenSpec;
import dev.deputy.broker.token.AccessTokens;
import dev.deputy.broker.token.DeputyTokenVerifier;
import dev.deputy.broker.token.MintedToken;
import dev.deputy.broker.token.Revocations;
import dev.deputy.connectors.ConnectorException;
import dev.deputy.connectors.UpstreamConnector;
import dev.deputy.connectors.UpstreamIdentity;
import com.nimbusds.jwt.JWTParser;
import jakarta.inject.Singleton;

import java.net.URI;
import java.text.ParseException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * RFC 8693 token exchange: an agent acting for a user. The issued token keeps the user exactly as the
 * subject token has it ({@code sub}, {@code sub_id}) and names the agent as the current actor, wrapping any
 * earlier actors ({@code act}). Scope only ever narrows: requested ∩ subject token scope (which already is
 * the user's entitlement) ∩ the agent's roles ∩ the resource's scopes ∩ policy.
 */
@Singleton
public class TokenExchangeGrantHandler implements GrantHandler {
    static final Duration DEFAULT_TTL = Duration.ofMinutes(5);
    static final Set<TokenTypeURI> SUBJECT_TYPES = Set.of(TokenTypeURI.ACCESS_TOKEN, TokenTypeURI.JWT);
    static final Set<TokenTypeURI> UPSTREAM_TYPES = Set.of(TokenTypeURI.ID_TOKEN, TokenTypeURI.ACCESS_TOKEN, TokenTypeURI.JWT);

    /**
     * The user a subject token speaks for, from either kind of subject token.
     *
     * @param priorChain agents already acting (outermost first); empty for an upstream token
     * @param scopes     what the subject token allows (for an upstream token: what the user's mapped roles grant)
     */
    record SubjectInfo(String sub, String iss, List<String> priorChain, Set<String> scopes, long expiresAtMs,
                       Set<String> groups, Set<String> roles, String connector, String jti, Map<String, Object> claims,
                       boolean upstream) {
    }

    private final DeputyTokenVerifier verifier;
    private final AgentDirectory agents;
    private final AgentTokenState agentState;
    private final Revocations revocations;
    private final Policies policies;
    private final AccessTokens tokens;
    private final AuditLog audit;
    private final UserStore users;
    private final TenantConnectors connectors;

    public TokenExchangeGrantHandler(DeputyTokenVerifier verifier, AgentDirectory agents, AgentTokenState agentState,
                                     Revocations revocations, Policies policies, AccessTokens tokens, AuditLog audit,
                                     UserStore users, TenantConnectors connectors) {
        this.users = users;
        this.connectors = connectors;
        this.verifier = verifier;
        this.agents = agents;
        this.agentState = agentState;
        this.revocations = revocations;
        this.policies = policies;
        this.tokens = tokens;
        this.audit = audit;
    }

    @Override
    public String grantType() {
        return GrantType.TOKEN_EXCHANGE.getValue();
    }

    @Override
    public TokenResult handle(TokenContext ctx) {
        String tenant = ctx.tenant().id();
        String agentId = ctx.client().agentId();
        if (agentId == null) {
            throw new OAuthException(OAuth2Error.UNAUTHORIZED_CLIENT, "only agents may exchange tokens");
        }
        if (!(ctx.request().getAuthorizationGrant() instanceof TokenExchangeGrant grant)) {
            throw new OAuthException(OAuth2Error.INVALID_REQUEST, "not a token exchange request");
        }
        Agent agent = agents.agent(tenant, agentId).filter(Agent::active)
                .orElseThrow(() -> new OAuthException(OAuth2Error.INVALID_CLIENT, "agent is not active"));

        // RFC 8693 §2.1: subject_token and subject_token_type REQUIRED
        SubjectInfo subject = subject(ctx, grant);
        List<String> priorChain = subject.priorChain();
        // RFC 8693 §4.4: may_act names who may act for the subject; enforced, not decorative
        Object mayActClaim = subject.claims().get("may_act");
        if (mayActClaim != null && !(mayActClaim instanceof Map<?, ?> mayAct && agentId.equals(mayAct.get("sub")))) {
            throw new OAuthException(OAuth2Error.INVALID_GRANT, "may_act of the subject token does not name this agent");
        }
        // RFC 8693 §2.1: actor_token, when present, must be the authenticated agent's own
        if (grant.getActorToken() != null) {
            if (!SUBJECT_TYPES.contains(grant.getActorTokenType())) {
                throw new OAuthException(OAuth2Error.INVALID_REQUEST, "actor_token_type must be access_token or jwt");
            }
            DeputyTokenVerifier.Verified actor = verify(tenant, grant.getActorToken().getValue(), "actor_token");
            if (!agentId.equals(actor.claims().getSubject()) || actor.claims().getClaim("sub_id") != null) {
                throw new OAuthException(OAuth2Error.INVALID_GRANT, "actor_token does not name the authenticated agent");
            }
        }
        List<String> chain = new ArrayList<>(priorChain.size() + 1);
        chain.add(agentId);
        chain.addAll(priorChain);

        Resource resource = resource(ctx, grant);
        Set<String> subjectScopes = subject.scopes();
        Set<String> requested = ctx.request().getScope() == null ? null
                : new LinkedHashSet<>(ctx.request().getScope().toStringList());
        Set<String> agentScopes = agentScopes(tenant, agent);
        Set<String> candidate = new TreeSet<>(requested == null ? subjectScopes : requested);
        candidate.retainAll(subjectScopes);
        candidate.retainAll(agentScopes);
        if (!resource.scopes().isEmpty()) {
            candidate.retainAll(resource.scopes());
        }
        if (requested != null && !requested.isEmpty() && !candidate.containsAll(requested)) {
            // asking for more than user ∩ agent ∩ resource allow is an escalation: refused, never silently trimmed
            throw new OAuthException(OAuth2Error.INVALID_SCOPE, "requested scope exceeds what the user and agent hold");
        }

        // the user as Deputy knows them now: a suspended link stops delegation at once; groups and roles
        // for policy come from the link (the last login's mapping), else from the token's claims
        List<User> links = users.findByUpstream(tenant, subject.iss(), subject.sub());
        if (links.stream().anyMatch(u -> !u.active())) {
            throw new OAuthException(OAuth2Error.INVALID_GRANT, "the user is suspended");
        }
        Set<String> groups = new TreeSet<>(subject.groups());
        Set<String> roles = new TreeSet<>(subject.roles());
        String connector = subject.connector();
        for (User u : links) {
            groups.addAll(u.groups());
            roles.addAll(u.roles());
            connector = connector == null ? u.connectorId() : connector;
        }
        // checked before the decision: once allowed, the decision is written with the token it allowed
        TokenTypeURI issuedType = grant.getRequestedTokenType() == null ? TokenTypeURI.ACCESS_TOKEN : grant.getRequestedTokenType();
        if (!SUBJECT_TYPES.contains(issuedType)) {
            throw new OAuthException(OAuth2Error.INVALID_REQUEST, "requested_token_type must be access_token or jwt");
        }
        DelegationInput input = new DelegationInput(agentId, agent.roles(), true, subject.sub(),
                subject.iss(), connector, groups, roles, resource.uri(), candidate, chain.size());
        Decision decision = policies.of(tenant).decide(input);
        if (!decision.allowed()) {
            // a refusal is a policy.decision (deny) entry with the rule and the reason; an allowed exchange is
            // the one token.exchanged entry below, which names the rule that allowed it
            audit.append(AuditEvent.of(tenant, EventTypes.POLICY_DECISION, AuditEvent.Outcome.DENY)
                    .subject(subject.sub(), subject.iss()).actors(chain).agent(agentId)
                    .client(ctx.client().clientId()).resource(resource.uri()).scopes(String.join(" ", candidate))
                    .request(ctx.meta()).detail("rule", decision.ruleId()).detail("reason", decision.reason())
                    .detail("granted", String.join(" ", new TreeSet<>(decision.granted()))).build());
            throw new OAuthException(new ErrorObject(OAuth2Error.INVALID_GRANT.getCode(),
                    "delegation refused by policy (" + decision.ruleId() + ")", 400));
        }
        Set<String> granted = new TreeSet<>(decision.granted());

        long remainingMs = subject.expiresAtMs() - System.currentTimeMillis();
        Duration ttl = DEFAULT_TTL.compareTo(Duration.ofMillis(Math.max(1_000, remainingMs))) > 0
                ? Duration.ofMillis(Math.max(1_000, remainingMs)) : DEFAULT_TTL; // never beyond the subject's expiry
        Map<String, Object> extra = new LinkedHashMap<>();
        for (String c : List.of("email", "name", "groups", "connector")) {
            if (subject.claims().get(c) != null) {
                extra.put(c, subject.claims().get(c));
            }
        }
        MintedToken minted = tokens.mint(new AccessTokenSpec(tenant, subject.sub(), subject.iss(), chain,
                ctx.client().clientId(), resource.uri(), List.copyOf(granted), ctx.client().certThumbprint(), null, ttl,
                extra));

        Map<String, Object> body = new LinkedHashMap<>();
        body.put("access_token", minted.token());
        body.put("issued_token_type", issuedType.getURI().toString()); // RFC 8693 §2.2.1 REQUIRED
        body.put("token_type", "Bearer");
        body.put("expires_in", minted.expiresIn());
        body.put("scope", String.join(" ", granted));
        AuditEvent event = AuditEvent.of(tenant, "token.exchanged", AuditEvent.Outcome.SUCCESS)
                .subject(subject.sub(), subject.iss()).actors(chain).agent(agentId)
                .client(ctx.client().clientId()).resource(resource.uri()).scopes(String.join(" ", granted))
                .request(ctx.meta()).detail("jti", minted.jti()).detail("subject_jti", subject.jti())
                .detail("subject_kind", subject.upstream() ? "upstream" : "deputy")
                .detail("requested", requested == null ? null : String.join(" ", new TreeSet<>(requested)))
                .detail("rule", decision.ruleId()).detail("reason", decision.reason())
                .detail("cnf", ctx.client().certThumbprint() != null ? "x5t#S256" : null)
                .build();
        return new TokenResult(body, event);
    }

    /** A Deputy access token of this tenant, or a token of an upstream IdP whose connector is trusted for exchange. */
    private SubjectInfo subject(TokenContext ctx, TokenExchangeGrant grant) {
        String tenant = ctx.tenant().id();
        String token = grant.getSubjectToken().getValue();
        // the usual subject: a valid Deputy token of this tenant (its issuer is ours), parsed once by the validator
        // (not at all when it has verified this token before); anything else is told apart by its iss below
        var ours = verifier.tryVerify(tenant, token);
        if (ours.isPresent()) {
            if (!SUBJECT_TYPES.contains(grant.getSubjectTokenType())) {
                throw new OAuthException(OAuth2Error.INVALID_REQUEST, "subject_token_type must be access_token or jwt");
            }
            return deputySubject(tenant, notRevoked(tenant, ours.get(), "subject_token"));
        }
        String iss;
        try {
            iss = JWTParser.parse(token).getJWTClaimsSet().getIssuer();
        } catch (ParseException e) {
            throw new OAuthException(OAuth2Error.INVALID_GRANT, "subject_token is not a JWT");
        }
        if (ctx.issuer().equals(iss)) {
            if (!SUBJECT_TYPES.contains(grant.getSubjectTokenType())) {
                throw new OAuthException(OAuth2Error.INVALID_REQUEST, "subject_token_type must be access_token or jwt");
            }
            return deputySubject(tenant, verify(tenant, token, "subject_token"));
        }
        if (!UPSTREAM_TYPES.contains(grant.getSubjectTokenType())) {
            throw new OAuthException(OAuth2Error.INVALID_REQUEST, "subject_token_type must be id_token, access_token or jwt");
        }
        return upstreamSubject(tenant, token, iss, grant.getSubjectTokenType());
    }

    private SubjectInfo deputySubject(String tenant, DeputyTokenVerifier.Verified v) {
        JWTClaimsSet sc = v.claims();
        Map<String, Object> subId = jsonObject(sc, "sub_id");
        if (subId == null || !"iss_sub".equals(subId.get("format")) || !Objects.equals(sc.getSubject(), subId.get("sub"))) {
            throw new OAuthException(OAuth2Error.INVALID_GRANT, "subject_token does not represent a user");
        }
        if (agentState.problem(tenant, sc).isPresent()) {
            throw new OAuthException(OAuth2Error.INVALID_GRANT, "an agent in the subject token's chain is not active");
        }
        return new SubjectInfo(sc.getSubject(), (String) subId.get("iss"), AgentTokenState.actorChain(sc), scopes(sc), v.expiresAtMs(),
                stringSet(sc, "groups"), stringSet(sc, "roles"), stringClaim(sc, "connector"), sc.getJWTID(), sc.getClaims(),
                false);
    }

    private SubjectInfo upstreamSubject(String tenant, String token, String iss, TokenTypeURI type) {
        UpstreamConnector.TokenKind kind = TokenTypeURI.ID_TOKEN.equals(type)
                ? UpstreamConnector.TokenKind.ID_TOKEN : UpstreamConnector.TokenKind.ACCESS_TOKEN;
        ConnectorException last = null;
        for (Map.Entry<TenantConnectors.Entry, Set<String>> trusted : connectors.trustedForExchange(tenant)) {
            UpstreamConnector c = trusted.getKey().connector();
            String configured = c.config().issuer();
            if (!configured.contains("{") && !configured.equals(iss)) {
                continue; // not this IdP (templated issuers, e.g. Entra multi-tenant, are checked by the connector)
            }
            try {
                UpstreamIdentity who = c.validateUpstreamToken(token, kind, trusted.getValue());
                Set<String> scopes = new TreeSet<>();
                for (Role r : agents.roles(tenant)) {
                    if (who.roles().contains(r.name())) {
                        scopes.addAll(r.scopes());
                    }
                }
                Object exp = who.claims().get("exp");
                long expMs = exp instanceof java.util.Date d ? d.getTime()
                        : exp instanceof Number n ? n.longValue() * 1000 : System.currentTimeMillis() + DEFAULT_TTL.toMillis();
                Map<String, Object> claims = new LinkedHashMap<>();
                if (who.email() != null) {
                    claims.put("email", who.email());
                }
                if (who.name() != null) {
                    claims.put("name", who.name());
                }
                if (!who.groups().isEmpty()) {
                    claims.put("groups", who.groups());
                }
                claims.put("connector", who.connectorId());
                Object jti = who.claims().get("jti");
                return new SubjectInfo(who.subject(), who.issuer(), List.of(), scopes, expMs, new TreeSet<>(who.groups()),
                        new TreeSet<>(who.roles()), who.connectorId(), jti == null ? null : jti.toString(), claims, true);
            } catch (ConnectorException e) {
                last = e;
            }
        }
        throw new OAuthException(OAuth2Error.INVALID_GRANT, last == null
                ? "subject_token issuer is not trusted for token exchange"
                : "subject_token rejected by its IdP's rules: " + last.code().wire());
    }

    private DeputyTokenVerifier.Verified verify(String tenant, String token, String which) {
        DeputyTokenVerifier.Verified v;
        try {
            v = verifier.verify(tenant, token);
        } catch (DeputyTokenVerifier.Invalid e) {
            throw new OAuthException(OAuth2Error.INVALID_GRANT, which + " is invalid: " + e.getMessage());
        }
        return notRevoked(tenant, v, which);
    }

    private DeputyTokenVerifier.Verified notRevoked(String tenant, DeputyTokenVerifier.Verified v, String which) {
        if (revocations.isRevoked(tenant, v.claims().getJWTID())) {
            throw new OAuthException(OAuth2Error.INVALID_GRANT, which + " is revoked");
        }
        return v;
    }

    private Resource resource(TokenContext ctx, TokenExchangeGrant grant) {
        List<Resource> all = agents.resources(ctx.tenant().id());
        List<String> asked = new ArrayList<>();
        if (ctx.request().getResources() != null) {
            ctx.request().getResources().stream().map(URI::toString).forEach(asked::add);
        }
        if (grant.getAudience() != null) {
            grant.getAudience().forEach(a -> asked.add(a.getValue()));
        }
        if (asked.size() > 1) {
            throw new OAuthException(OAuth2Error.INVALID_TARGET, "name exactly one resource");
        }
        if (asked.isEmpty()) {
            return all.stream().filter(Resource::isDefault).findFirst()
                    .orElseThrow(() -> new OAuthException(OAuth2Error.INVALID_TARGET, "no resource given and no default"));
        }
        String want = Resource.canonical(asked.get(0));
        // RFC 8707 §2: the resource must be one the AS knows; audience may name it by URI or id
        return all.stream().filter(r -> Resource.canonical(r.uri()).equals(want) || r.id().equals(asked.get(0)))
                .findFirst()
                .orElseThrow(() -> new OAuthException(OAuth2Error.INVALID_TARGET, "unknown resource"));
    }

    private Set<String> agentScopes(String tenant, Agent agent) {
        Set<String> out = new TreeSet<>();
        for (Role r : agents.roles(tenant)) {
            if (agent.roles().contains(r.name()) && r.appliesIn(agent.environment())) {
                out.addAll(r.scopes());
            }
        }
        return out;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> jsonObject(JWTClaimsSet c, String name) {
        Object o = c.getClaim(name);
        return o instanceof Map<?, ?> m ? (Map<String, Object>) m : null;
    }

    private static Set<String> scopes(JWTClaimsSet c) {
        Object s = c.getClaim("scope");
        return s instanceof String str && !str.isBlank() ? new TreeSet<>(Scope.parse(str).toStringList()) : new TreeSet<>();
    }

    private static String stringClaim(JWTClaimsSet c, String name) {
        Object o = c.getClaim(name);
        return o instanceof String s ? s : null;
    }

    private static Set<String> stringSet(JWTClaimsSet c, String name) {
        Object o = c.getClaim(name);
        Set<String> out = new TreeSet<>();
        if (o instanceof Collection<?> col) {
            col.forEach(x -> out.add(String.valueOf(x)));
        }
        return out;
    }
}
