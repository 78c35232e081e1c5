package dev.deputy.broker.oauth;

import com.nimbusds.jwt.JWTClaimsSet;
import dev.deputy.broker.federation.User;
import dev.deputy.broker.federation.UserStore;
import dev.deputy.broker.token.AccessTokenValidator;
import dev.deputy.broker.token.Revocations;
import jakarta.inject.Singleton;

import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The one verifier of Deputy's own access tokens and the one activity rule, used by every consumer: introspection,
 * revocation, token exchange (subject and actor tokens), the actor token of the code grant, and tool-call reports.
 * <ul>
 *   <li>verified ({@link AccessTokenValidator}, RFC 9068 §4): {@code typ: at+jwt}, signed by a key the tenant still
 *       publishes, the tenant's issuer, within {@code nbf}/{@code exp}; {@code sub} and {@code jti} present;</li>
 *   <li>active (RFC 7662 §2.2): not revoked; every agent it names ({@code sub} of an agent token, every
 *       {@code act.sub}) active; the user of a user token ({@code sub_id}) not suspended;</li>
 *   <li>held (RFC 8705 §3): a certificate-bound token ({@code cnf.x5t#S256}) only with its certificate, where the
 *       consumer asks for it ({@link #heldBy}).</li>
 * </ul>
 * Everything it reads on the way is in memory (verified-token cache, revocation set, agent directory, user link
 * cache): no database round trip on the hot path.
 */
@Singleton
public class DeputyTokens {
    private final AccessTokenValidator validator;
    private final Revocations revocations;
    private final AgentTokenState agents;
    private final UserStore users;

    public DeputyTokens(AccessTokenValidator validator, Revocations revocations, AgentTokenState agents, UserStore users) {
        this.validator = validator;
        this.revocations = revocations;
        this.agents = agents;
        this.users = users;
    }

    /**
     * A token's verdict: the claims when it verified (also when it is not active: they are facts worth auditing),
     * and why it is not active, a safe lower-case reason ({@code expired}, {@code revoked}, {@code agent_suspended},
     * {@code user_suspended}, …), or null when it is.
     */
    public record Verdict(JWTClaimsSet claims, String kid, String inactive) {
        public boolean active() {
            return inactive == null;
        }

        public boolean verified() {
            return claims != null;
        }

        public long expiresAtMs() {
            Date exp = claims == null ? null : claims.getExpirationTime();
            return exp == null ? 0 : exp.getTime();
        }
    }

    /** Verify, then apply the activity rule. */
    public Verdict check(String tenantId, String token) {
        AccessTokenValidator.Result r = validator.validate(tenantId, token);
        if (!r.valid()) {
            return new Verdict(null, null, r.invalid().name().toLowerCase());
        }
        JWTClaimsSet c = r.claims();
        if (c.getSubject() == null || c.getJWTID() == null) {
            return new Verdict(null, null, "malformed");
        }
        return new Verdict(c, r.kid(), inactiveReason(tenantId, c).orElse(null));
    }

    /** The activity rule for verified claims: empty when active, else the reason. */
    public Optional<String> inactiveReason(String tenantId, JWTClaimsSet claims) {
        if (claims.getJWTID() != null && revocations.isRevoked(tenantId, claims.getJWTID())) {
            return Optional.of("revoked");
        }
        Optional<String> agentProblem = agents.problem(tenantId, claims);
        if (agentProblem.isPresent()) {
            return agentProblem;
        }
        if (claims.getClaim("sub_id") instanceof Map<?, ?> subId && subId.get("iss") instanceof String iss
                && claims.getSubject() != null) {
            // a suspended user link stops every token about the user at once
            List<User> links = users.findByUpstream(tenantId, iss, claims.getSubject());
            if (links.stream().anyMatch(u -> !u.active())) {
                return Optional.of("user_suspended");
            }
        }
        return Optional.empty();
    }

    /** {@code cnf.x5t#S256} of a certificate-bound token (RFC 8705 §3.1), or null. */
    public static String certificateBinding(JWTClaimsSet claims) {
        return claims.getClaim("cnf") instanceof Map<?, ?> cnf && cnf.get("x5t#S256") instanceof String t ? t : null;
    }

    /** {@code cnf.jkt} of a DPoP-bound token (RFC 9449 §6.1), or null. */
    public static String keyBinding(JWTClaimsSet claims) {
        return claims.getClaim("cnf") instanceof Map<?, ?> cnf && cnf.get("jkt") instanceof String t ? t : null;
    }

    /**
     * RFC 8705 §3: whether the presenter holds the token — it is not certificate-bound, or the presented client
     * certificate's thumbprint is the bound one.
     */
    public static boolean heldBy(JWTClaimsSet claims, String presentedThumbprint) {
        String bound = certificateBinding(claims);
        return bound == null || (presentedThumbprint != null && java.security.MessageDigest.isEqual(
                bound.getBytes(java.nio.charset.StandardCharsets.US_ASCII),
                presentedThumbprint.getBytes(java.nio.charset.StandardCharsets.US_ASCII)));
    }

    /** Whether the agent is one the directory knows as active (the requested_actor and exchange checks). */
    public boolean agentActive(String tenantId, String agentId) {
        return agents.active(tenantId, agentId);
    }

    /** Agents and actor chains of a token (RFC 8693 §4.1), for audit and ownership. */
    public static List<String> actorChain(JWTClaimsSet claims) {
        return AgentTokenState.actorChain(claims);
    }
}
