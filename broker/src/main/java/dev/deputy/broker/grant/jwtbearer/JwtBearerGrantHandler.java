package dev.deputy.broker.grant.jwtbearer;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.proc.BadJOSEException;
import com.nimbusds.jose.proc.DefaultJOSEObjectTypeVerifier;
import com.nimbusds.jose.proc.JWSVerificationKeySelector;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.nimbusds.jwt.proc.DefaultJWTClaimsVerifier;
import com.nimbusds.jwt.proc.DefaultJWTProcessor;
import com.nimbusds.oauth2.sdk.GrantType;
import com.nimbusds.oauth2.sdk.JWTBearerGrant;
import com.nimbusds.oauth2.sdk.OAuth2Error;
import com.nimbusds.oauth2.sdk.Scope;
import dev.deputy.broker.agent.Resource;
import dev.deputy.broker.audit.AuditEvent;
import dev.deputy.broker.ephemeral.EphemeralStore;
import dev.deputy.broker.federation.TrustedIssuer;
import dev.deputy.broker.federation.TrustedIssuers;
import dev.deputy.broker.keys.CryptoProvider;
import dev.deputy.broker.oauth.AgentDirectory;
import dev.deputy.broker.oauth.GrantHandler;
import dev.deputy.broker.oauth.GrantSupport;
import dev.deputy.broker.oauth.OAuthException;
import dev.deputy.broker.oauth.TokenContext;
import dev.deputy.broker.oauth.TokenResult;
import dev.deputy.broker.token.AccessTokenSpec;
import dev.deputy.broker.token.AccessTokens;
import dev.deputy.broker.token.MintedToken;
import jakarta.inject.Singleton;

import java.net.URI;
import java.text.ParseException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The JWT bearer grant (RFC 7523 §2.1) in its two uses:
 * <ul>
 *   <li><b>ID-JAG</b> (Identity Assertion JWT Authorization Grant, MCP enterprise-managed authorization):
 *   an assertion of {@code typ: oauth-id-jag+jwt} from a trusted IdP, for a user, for this client and one
 *   resource. No consent, no refresh token.</li>
 *   <li><b>Workload assertions</b> from trusted issuers (e.g. a SPIFFE JWT-SVID issuer), for the subjects
 *   and scopes the tenant's trust file allows.</li>
 * </ul>
 */
@Singleton
public class JwtBearerGrantHandler implements GrantHandler {
    public static final JOSEObjectType ID_JAG_TYP = new JOSEObjectType("oauth-id-jag+jwt");
    static final long SKEW_SECONDS = 60;

    private final TrustedIssuers trusted;
    private final AgentDirectory agents;
    private final EphemeralStore ephemeral;
    private final AccessTokens tokens;

    private final GrantSupport kit;

    public JwtBearerGrantHandler(TrustedIssuers trusted, AgentDirectory agents, EphemeralStore ephemeral, AccessTokens tokens,
                                 GrantSupport kit) {
        this.kit = kit;
        this.trusted = trusted;
        this.agents = agents;
        this.ephemeral = ephemeral;
        this.tokens = tokens;
    }

    @Override
    public String grantType() {
        return GrantType.JWT_BEARER.getValue();
    }

    @Override
    public TokenResult handle(TokenContext ctx) {
        if (!(ctx.request().getAuthorizationGrant() instanceof JWTBearerGrant grant)
                || !(grant.getJWTAssertion() instanceof SignedJWT assertion)) {
            throw new OAuthException(OAuth2Error.INVALID_GRANT, "assertion must be a signed JWT");
        }
        boolean idJag = ID_JAG_TYP.equals(assertion.getHeader().getType());
        String kind = idJag ? TrustedIssuer.ID_JAG : TrustedIssuer.JWT_BEARER;
        String tenant = ctx.tenant().id();
        String unverifiedIss;
        try {
            unverifiedIss = assertion.getJWTClaimsSet().getIssuer();
        } catch (ParseException e) {
            throw new OAuthException(OAuth2Error.INVALID_GRANT, "malformed assertion claims");
        }
        TrustedIssuers.Trusted t = trusted.find(tenant, unverifiedIss)
                .filter(x -> x.config().accepts(kind))
                .orElseThrow(() -> new OAuthException(OAuth2Error.INVALID_GRANT, "assertion issuer is not trusted for " + kind));
        JWTClaimsSet claims = verify(ctx, assertion, t, idJag);

        // single use across nodes: the jti is remembered until the assertion expires
        long ttlMs = Math.max(1_000, claims.getExpirationTime().getTime() - System.currentTimeMillis() + SKEW_SECONDS * 1000);
        if (!ephemeral.markUsed("assertion-jti:" + tenant + ":" + sha(claims.getIssuer()) + ":" + claims.getJWTID(),
                Duration.ofMillis(ttlMs))) {
            throw new OAuthException(OAuth2Error.INVALID_GRANT, "assertion jti was already used");
        }
        return idJag ? idJag(ctx, claims) : workload(ctx, claims, t.config());
    }

    private JWTClaimsSet verify(TokenContext ctx, SignedJWT assertion, TrustedIssuers.Trusted t, boolean idJag) {
        DefaultJWTProcessor<SecurityContext> p = new DefaultJWTProcessor<>();
        // ID-JAG §3: typ MUST be oauth-id-jag+jwt; plain RFC 7523 assertions: JWT or none
        p.setJWSTypeVerifier(idJag ? new DefaultJOSEObjectTypeVerifier<>(ID_JAG_TYP)
                : new DefaultJOSEObjectTypeVerifier<>(JOSEObjectType.JWT, null));
        Set<JWSAlgorithm> algs = new HashSet<>();
        t.config().algorithms().forEach(a -> algs.add(JWSAlgorithm.parse(a)));
        p.setJWSKeySelector(new JWSVerificationKeySelector<>(algs, t.keys()));
        if (CryptoProvider.get() != null) {
            p.getJWSVerifierFactory().getJCAContext().setProvider(CryptoProvider.get());
        }
        Set<String> required = new HashSet<>(List.of("iss", "sub", "aud", "exp", "iat", "jti"));
        if (idJag) {
            required.add("client_id");
        }
        DefaultJWTClaimsVerifier<SecurityContext> cv = new DefaultJWTClaimsVerifier<>(null,
                new JWTClaimsSet.Builder().issuer(t.config().issuer()).build(), required);
        cv.setMaxClockSkew((int) SKEW_SECONDS);
        p.setJWTClaimsSetVerifier(cv);
        JWTClaimsSet claims;
        try {
            claims = p.process(assertion, null);
        } catch (BadJOSEException | com.nimbusds.jose.JOSEException e) {
            throw new OAuthException(OAuth2Error.INVALID_GRANT, "assertion rejected: " + safe(e.getMessage()));
        }
        List<String> aud = claims.getAudience();
        String issuer = ctx.issuer();
        String tokenEndpoint = issuer + "/token";
        if (idJag) {
            // ID-JAG: aud is this AS's issuer; an array must hold exactly it
            if (aud.size() != 1 || !aud.get(0).equals(issuer)) {
                throw new OAuthException(OAuth2Error.INVALID_GRANT, "assertion aud must be exactly this issuer");
            }
            // ID-JAG: client_id MUST match the authenticated client
            Object cid = claims.getClaim("client_id");
            if (!(cid instanceof String s) || !s.equals(ctx.client().clientId())) {
                throw new OAuthException(OAuth2Error.INVALID_GRANT, "assertion client_id does not match the client");
            }
        } else if (aud.stream().noneMatch(a -> a.equals(issuer) || a.equals(tokenEndpoint))) {
            // RFC 7523 §3: aud identifies the AS (issuer or token endpoint)
            throw new OAuthException(OAuth2Error.INVALID_GRANT, "assertion aud must name this issuer or its token endpoint");
        }
        long iat = claims.getIssueTime().toInstant().getEpochSecond();
        long exp = claims.getExpirationTime().toInstant().getEpochSecond();
        long now = System.currentTimeMillis() / 1000;
        if (iat > now + SKEW_SECONDS) {
            throw new OAuthException(OAuth2Error.INVALID_GRANT, "assertion issued in the future");
        }
        if (exp - iat > t.config().maxLifetime().toSeconds()) {
            throw new OAuthException(OAuth2Error.INVALID_GRANT, "assertion lifetime exceeds the allowed maximum");
        }
        return claims;
    }

    private TokenResult idJag(TokenContext ctx, JWTClaimsSet c) {
        String tenant = ctx.tenant().id();
        List<String> asserted = stringList(c.getClaim("resource"));
        List<String> requested = new ArrayList<>();
        if (ctx.request().getResources() != null) {
            ctx.request().getResources().stream().map(URI::toString).forEach(requested::add);
        }
        if (asserted.size() > 1 || requested.size() > 1) {
            throw new OAuthException(OAuth2Error.INVALID_TARGET, "name exactly one resource");
        }
        String want = !asserted.isEmpty() ? asserted.get(0) : requested.isEmpty() ? null : requested.get(0);
        if (!asserted.isEmpty() && !requested.isEmpty()
                && !Resource.canonical(asserted.get(0)).equals(Resource.canonical(requested.get(0)))) {
            throw new OAuthException(OAuth2Error.INVALID_TARGET, "resource differs from the assertion's");
        }
        Resource resource = kit.namedResource(ctx, want);
        Set<String> assertedScopes = scopeSet(c.getClaim("scope"));
        Set<String> req = ctx.request().getScope() == null ? null : new TreeSet<>(ctx.request().getScope().toStringList());
        Set<String> granted = new TreeSet<>(req == null ? assertedScopes : req);
        granted.retainAll(assertedScopes);
        if (!resource.scopes().isEmpty()) {
            granted.retainAll(resource.scopes());
        }
        if (req != null && !req.isEmpty() && granted.isEmpty()) {
            throw new OAuthException(OAuth2Error.INVALID_SCOPE, "none of the requested scopes is granted by the assertion");
        }
        List<String> chain = ctx.client().agentId() != null ? List.of(ctx.client().agentId()) : List.of();
        Map<String, Object> extra = new LinkedHashMap<>();
        if (c.getClaim("email") instanceof String email) {
            extra.put("email", email);
        }
        MintedToken minted = tokens.mint(new AccessTokenSpec(tenant, c.getSubject(), c.getIssuer(), chain,
                ctx.client().clientId(), resource.uri(), List.copyOf(granted), ctx.client().certThumbprint(), null, null, extra));
        return result(ctx, minted, granted, AuditEvent.of(tenant, "token.issued", AuditEvent.Outcome.SUCCESS)
                .subject(c.getSubject(), c.getIssuer()).actors(chain).agent(ctx.client().agentId())
                .client(ctx.client().clientId()).resource(resource.uri()).scopes(String.join(" ", granted))
                .request(ctx.meta()).detail("grant", "id-jag").detail("jti", minted.jti())
                .detail("grant_jti", c.getJWTID()).build());
    }

    private TokenResult workload(TokenContext ctx, JWTClaimsSet c, TrustedIssuer ti) {
        String tenant = ctx.tenant().id();
        if (!ti.allowsSubject(c.getSubject())) {
            throw new OAuthException(OAuth2Error.INVALID_GRANT, "assertion subject is not allowed by the tenant");
        }
        Resource resource = kit.resource(ctx);
        Set<String> req = ctx.request().getScope() == null ? new TreeSet<>(ti.scopes())
                : new TreeSet<>(ctx.request().getScope().toStringList());
        Set<String> granted = new TreeSet<>(req);
        granted.retainAll(ti.scopes());
        if (!resource.scopes().isEmpty()) {
            granted.retainAll(resource.scopes());
        }
        if (!granted.containsAll(req)) {
            throw new OAuthException(OAuth2Error.INVALID_SCOPE, "requested scope exceeds what the tenant allows this workload");
        }
        MintedToken minted = tokens.mint(new AccessTokenSpec(tenant, c.getSubject(), null, List.of(),
                ctx.client().clientId(), resource.uri(), List.copyOf(granted), ctx.client().certThumbprint(), null, null,
                Map.of("workload_iss", c.getIssuer())));
        return result(ctx, minted, granted, AuditEvent.of(tenant, "token.issued", AuditEvent.Outcome.SUCCESS)
                .subject(c.getSubject(), c.getIssuer()).client(ctx.client().clientId()).agent(ctx.client().agentId())
                .resource(resource.uri()).scopes(String.join(" ", granted)).request(ctx.meta())
                .detail("grant", "jwt-bearer").detail("jti", minted.jti()).detail("grant_jti", c.getJWTID()).build());
    }

    private static TokenResult result(TokenContext ctx, MintedToken minted, Set<String> granted, AuditEvent event) {
        // ID-JAG: no refresh token
        return new TokenResult(GrantSupport.response(minted, granted, null), event);
    }

    private static List<String> stringList(Object o) {
        if (o instanceof String s) {
            return List.of(s);
        }
        List<String> out = new ArrayList<>();
        if (o instanceof Collection<?> c) {
            c.forEach(x -> out.add(String.valueOf(x)));
        }
        return out;
    }

    private static Set<String> scopeSet(Object o) {
        return o instanceof String s && !s.isBlank() ? new TreeSet<>(Scope.parse(s).toStringList()) : new TreeSet<>();
    }

    private static String safe(String m) {
        return m == null ? "invalid" : m.length() > 120 ? m.substring(0, 120) : m;
    }

    private static String sha(String s) {
        return java.util.HexFormat.of().formatHex(sha256(s));
    }

    private static byte[] sha256(String s) {
        try {
            return java.security.MessageDigest.getInstance("SHA-256").digest(s.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
