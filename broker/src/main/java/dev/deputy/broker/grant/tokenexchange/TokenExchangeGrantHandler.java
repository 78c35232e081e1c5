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
import dev.deputy.broker.audit.EventTypes;
import dev.deputy.broker.federation.TenantConnectors;
import dev.deputy.broker.federation.User;
import dev.deputy.broker.federation.UserStore;
import dev.deputy.broker.oauth.AgentDirectory;
import dev.deputy.broker.oauth.AgentTokenState;
import dev.deputy.broker.oauth.ClientFrontDoor;
import dev.deputy.broker.oauth.DeputyTokens;
import dev.deputy.broker.oauth.GrantSupport;
import dev.deputy.broker.oauth.GrantHandler;
import dev.deputy.broker.oauth.OAuthException;
import dev.deputy.broker.oauth.TokenContext;
import dev.deputy.broker.oauth.TokenMetrics;
import dev.deputy.broker.oauth.TokenResult;
import dev.deputy.broker.policy.Decision;
import dev.deputy.broker.policy.DelegationInput;
import dev.deputy.broker.policy.Policies;
import dev.deputy.broker.token.AccessTokenSpec;
import dev.deputy.broker.token.AccessTokens;
import dev.deputy.broker.token.MintedToken;
import dev.deputy.connectors.ConnectorException;
import dev.deputy.connectors.UpstreamConnector;
import dev.deputy.connectors.UpstreamIdentity;
import com.nimbusds.jwt.JWTParser;
import jakarta.inject.Singleton;

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
                       boolean upstream, JWTClaimsSet boundClaims) {
        /** {@code cnf.x5t#S256} of a Deputy subject token, or null. */
        String binding() {
            return boundClaims == null ? null : DeputyTokens.certificateBinding(boundClaims);
        }

        boolean keyBound() {
            return boundClaims != null && DeputyTokens.keyBinding(boundClaims) != null;
        }

        List<String> audiences() {
            return boundClaims == null ? List.of() : boundClaims.getAudience();
        }
    }

    private final DeputyTokens deputyTokens;
    private final AgentDirectory agents;
    private final Policies policies;
    private final AccessTokens tokens;
    private final UserStore users;
    private final TenantConnectors connectors;
    private final GrantSupport kit;
    private final TokenMetrics metrics;

    public TokenExchangeGrantHandler(DeputyTokens deputyTokens, AgentDirectory agents, Policies policies,
                                     AccessTokens tokens, UserStore users, TenantConnectors connectors, GrantSupport kit,
                                     TokenMetrics metrics) {
        this.deputyTokens = deputyTokens;
        this.agents = agents;
        this.policies = policies;
        this.tokens = tokens;
        this.users = users;
        this.connectors = connectors;
        this.kit = kit;
        this.metrics = metrics;
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
                .orElseThrow(() -> OAuthException.of(OAuth2Error.INVALID_CLIENT, ClientFrontDoor.CLIENT_AUTH_FAILED,
                        "agent is not active"));

        // RFC 8693 §2.1: subject_token and subject_token_type REQUIRED
        SubjectInfo subject = subject(ctx, grant);
        List<String> priorChain = subject.priorChain();
        // RFC 8693 §4.4: may_act names who may act for the subject; enforced, not decorative
        Object mayActClaim = subject.claims().get("may_act");
        boolean namedInMayAct = mayActClaim instanceof Map<?, ?> mayAct && agentId.equals(mayAct.get("sub"));
        if (mayActClaim != null && !namedInMayAct) {
            throw new OAuthException(OAuth2Error.INVALID_GRANT, "may_act of the subject token does not name this agent");
        }
        // RFC 8705 §3, RFC 9700 §4.10: a certificate-bound subject token is usable only by its holder (the same
        // certificate), an agent it was issued for (its audience), or one its may_act names — and what is issued
        // is never less constrained than what came in: bound to the exchanging agent's own certificate
        String subjectBinding = subject.binding();
        if (subjectBinding != null) {
            String presented = ctx.client().certThumbprint();
            boolean holder = presented != null && DeputyTokens.heldBy(subject.boundClaims(), presented);
            boolean audience = subject.audiences().contains(agentId);
            if (!holder && !audience && !namedInMayAct) {
                throw OAuthException.of(OAuth2Error.INVALID_GRANT, "subject_token is bound to another client's certificate",
                        "cnf_not_holder");
            }
            if (presented == null) {
                throw OAuthException.of(OAuth2Error.INVALID_GRANT,
                        "a certificate-bound subject_token needs a certificate-bound exchange (mTLS)", "cnf_would_be_lost");
            }
        }
        if (subject.keyBound()) {
            // RFC 9449: a DPoP-bound subject token cannot be exchanged without losing its binding here
            throw OAuthException.of(OAuth2Error.INVALID_GRANT, "DPoP-bound subject tokens cannot be exchanged",
                    "dpop_would_be_lost");
        }
        // RFC 8693 §2.1: actor_token, when present, must be the authenticated agent's own
        if (grant.getActorToken() != null) {
            if (!SUBJECT_TYPES.contains(grant.getActorTokenType())) {
                throw new OAuthException(OAuth2Error.INVALID_REQUEST, "actor_token_type must be access_token or jwt");
            }
            JWTClaimsSet actor = activeDeputyToken(tenant, grant.getActorToken().getValue(), "actor_token");
            if (!agentId.equals(actor.getSubject()) || actor.getClaim("sub_id") != null) {
                throw new OAuthException(OAuth2Error.INVALID_GRANT, "actor_token does not name the authenticated agent");
            }
            // RFC 8705 §3: a certificate-bound actor token proves nothing without its certificate
            if (!DeputyTokens.heldBy(actor, ctx.client().certThumbprint())) {
                throw OAuthException.of(OAuth2Error.INVALID_GRANT, "actor_token is bound to another certificate",
                        "actor_cnf_mismatch");
            }
        }
        List<String> chain = new ArrayList<>(priorChain.size() + 1);
        chain.add(agentId);
        chain.addAll(priorChain);

        Resource resource = kit.resource(ctx, grant.getAudience() == null ? null
                : grant.getAudience().stream().map(a -> a.getValue()).toList());
        Set<String> subjectScopes = subject.scopes();
        Set<String> requested = ctx.request().getScope() == null ? null
                : new LinkedHashSet<>(ctx.request().getScope().toStringList());
        Set<String> agentScopes = kit.agentScopes(tenant, agent);
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
        metrics.exchangeDecided(tenant, decision.ruleId(), decision.allowed());
        if (!decision.allowed()) {
            // a refusal is a policy.decision (deny) entry with the rule and the reason; an allowed exchange is
            // the one token.exchanged entry below, which names the rule that allowed it
            // the one entry of this refusal (the front door writes it instead of a token.rejected)
            throw new OAuthException(new ErrorObject(OAuth2Error.INVALID_GRANT.getCode(),
                    "delegation refused by policy (" + decision.ruleId() + ")", 400))
                    .auditEvent(AuditEvent.of(tenant, EventTypes.POLICY_DECISION, AuditEvent.Outcome.DENY)
                            .subject(subject.sub(), subject.iss()).actors(chain).agent(agentId)
                            .client(ctx.client().clientId()).resource(resource.uri()).scopes(String.join(" ", candidate))
                            .request(ctx.meta()).detail("rule", decision.ruleId()).detail("reason", decision.reason())
                            .detail("error", OAuth2Error.INVALID_GRANT.getCode())
                            .detail("granted", String.join(" ", new TreeSet<>(decision.granted())))
                            .detail("subject_jti", subject.jti()).build());
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
        MintedToken minted = tokens.mint(AccessTokenSpec.of(tenant, ctx.client().clientId())
                .user(subject.sub(), subject.iss()).actors(chain).audience(resource.uri()).scopes(granted)
                .boundTo(ctx.client().certThumbprint()).ttl(ttl).claims(extra).build());
        AuditEvent event = AuditEvent.of(tenant, "token.exchanged", AuditEvent.Outcome.SUCCESS)
                .subject(subject.sub(), subject.iss()).actors(chain).agent(agentId)
                .client(ctx.client().clientId()).resource(resource.uri()).scopes(String.join(" ", granted))
                .request(ctx.meta()).detail("jti", minted.jti()).detail("subject_jti", subject.jti())
                .detail("subject_kind", subject.upstream() ? "upstream" : "deputy")
                .detail("requested", requested == null ? null : String.join(" ", new TreeSet<>(requested)))
                .detail("rule", decision.ruleId()).detail("reason", decision.reason())
                .detail("cnf", ctx.client().certThumbprint() != null ? "x5t#S256" : null)
                .build();
        // RFC 8693 §2.2.1: issued_token_type REQUIRED
        return new TokenResult(GrantSupport.response(minted, granted, null, issuedType), event);
    }

    /** A Deputy access token of this tenant, or a token of an upstream IdP whose connector is trusted for exchange. */
    private SubjectInfo subject(TokenContext ctx, TokenExchangeGrant grant) {
        String tenant = ctx.tenant().id();
        String token = grant.getSubjectToken().getValue();
        // the usual subject: a valid Deputy token of this tenant (its issuer is ours), parsed once by the validator
        // (not at all when it has verified this token before); anything else is told apart by its iss below
        DeputyTokens.Verdict ours = deputyTokens.check(tenant, token);
        if (ours.verified()) {
            if (!SUBJECT_TYPES.contains(grant.getSubjectTokenType())) {
                throw new OAuthException(OAuth2Error.INVALID_REQUEST, "subject_token_type must be access_token or jwt");
            }
            if (!ours.active()) {
                throw OAuthException.of(OAuth2Error.INVALID_GRANT, "subject_token is not active",
                        "subject_token " + ours.inactive());
            }
            return deputySubject(ours);
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
            throw OAuthException.of(OAuth2Error.INVALID_GRANT, "subject_token is invalid",
                    "subject_token " + ours.inactive());
        }
        if (!UPSTREAM_TYPES.contains(grant.getSubjectTokenType())) {
            throw new OAuthException(OAuth2Error.INVALID_REQUEST, "subject_token_type must be id_token, access_token or jwt");
        }
        return upstreamSubject(tenant, token, iss, grant.getSubjectTokenType());
    }

    private SubjectInfo deputySubject(DeputyTokens.Verdict v) {
        JWTClaimsSet sc = v.claims();
        Map<String, Object> subId = jsonObject(sc, "sub_id");
        if (subId == null || !"iss_sub".equals(subId.get("format")) || !Objects.equals(sc.getSubject(), subId.get("sub"))) {
            throw new OAuthException(OAuth2Error.INVALID_GRANT, "subject_token does not represent a user");
        }
        return new SubjectInfo(sc.getSubject(), (String) subId.get("iss"), AgentTokenState.actorChain(sc), scopes(sc), v.expiresAtMs(),
                stringSet(sc, "groups"), stringSet(sc, "roles"), stringClaim(sc, "connector"), sc.getJWTID(), sc.getClaims(),
                false, sc);
    }

    private SubjectInfo upstreamSubject(String tenant, String token, String iss, TokenTypeURI type) {
        // RFC 8725 §3.11: the kind comes from the token itself, not from subject_token_type (an ID token labelled
        // access_token must still meet the ID token rules, azp included)
        UpstreamConnector.TokenKind kind = UpstreamConnector.TokenKind.of(token, TokenTypeURI.ID_TOKEN.equals(type));
        if (kind == null) {
            throw new OAuthException(OAuth2Error.INVALID_GRANT, "subject_token is not a JWT");
        }
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
                        new TreeSet<>(who.roles()), who.connectorId(), jti == null ? null : jti.toString(), claims, true,
                        null);
            } catch (ConnectorException e) {
                last = e;
            }
        }
        throw new OAuthException(OAuth2Error.INVALID_GRANT, last == null
                ? "subject_token issuer is not trusted for token exchange"
                : "subject_token rejected by its IdP's rules: " + last.code().wire());
    }

    /** A Deputy token of this tenant that is active by the one rule; else invalid_grant. */
    private JWTClaimsSet activeDeputyToken(String tenant, String token, String which) {
        DeputyTokens.Verdict v = deputyTokens.check(tenant, token);
        if (!v.active()) {
            throw OAuthException.of(OAuth2Error.INVALID_GRANT, which + " is invalid or not active", which + " " + v.inactive());
        }
        return v.claims();
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
