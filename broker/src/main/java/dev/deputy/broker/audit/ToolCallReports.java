package dev.deputy.broker.audit;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.jwk.source.ImmutableJWKSet;
import com.nimbusds.jose.proc.DefaultJOSEObjectTypeVerifier;
import com.nimbusds.jose.proc.JWSVerificationKeySelector;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.proc.DefaultJWTClaimsVerifier;
import com.nimbusds.jwt.proc.DefaultJWTProcessor;
import dev.deputy.broker.config.PublicUrl;
import dev.deputy.broker.keys.SigningKeys;
import dev.deputy.broker.keys.TenantKeys;
import jakarta.inject.Singleton;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Tool calls reported by resource servers (MCP servers), authenticated by the caller's Deputy access token:
 * the entry links the call to the token's {@code sub}/{@code sub_id}, {@code act} chain, {@code client_id}
 * and {@code aud}, and to the request's correlation id. A report under a token that is not active any more
 * (revoked, or naming a suspended or revoked agent: {@link TokenActivity}) is refused like an invalid token
 * (RFC 6750 §3.1 {@code invalid_token}), and every refusal is audited as {@code tool.call.rejected} with a safe
 * reason (never the token).
 */
@Singleton
public class ToolCallReports {
    private static final Pattern SHA256_HEX = Pattern.compile("^[0-9a-f]{64}$");
    private static final Pattern TOOL = Pattern.compile("^[\\p{L}\\p{N}_.:/-]{1,128}$");
    private static final int MAX_ACT_DEPTH = 16;

    private final SigningKeys keys;
    private final PublicUrl publicUrl;
    private final AuditLog log;
    private final TokenActivity activity;

    public ToolCallReports(SigningKeys keys, PublicUrl publicUrl, AuditLog log, TokenActivity activity) {
        this.keys = keys;
        this.publicUrl = publicUrl;
        this.log = log;
        this.activity = activity;
    }

    /**
     * The bearer token is missing, invalid, expired, of another tenant, revoked, or names an agent that is not
     * active (RFC 6750 §3.1 invalid_token); {@code reason} is the audited, safe reason.
     */
    public static final class InvalidToken extends RuntimeException {
        private final String reason;

        public InvalidToken(String message) {
            this(message, "invalid_token");
        }

        public InvalidToken(String message, String reason) {
            super(message);
            this.reason = reason;
        }

        public String reason() {
            return reason;
        }
    }

    /** The report body is malformed (400 invalid_request). */
    public static final class InvalidReport extends RuntimeException {
        public InvalidReport(String message) {
            super(message);
        }
    }

    public record Report(String tool, String argumentsSha256, String status, String resource) {
    }

    public JWTClaimsSet validate(String tenantId, String bearer) {
        if (bearer == null || bearer.isBlank() || bearer.length() > 16_384) {
            throw new InvalidToken("a Deputy access token is required", bearer == null || bearer.isBlank() ? "no_token" : "too_long");
        }
        TenantKeys k = keys.keys(tenantId);
        DefaultJWTProcessor<SecurityContext> p = new DefaultJWTProcessor<>();
        // RFC 9068 §4: typ at+jwt; algorithms of the tenant's keys only (no alg:none, no HMAC confusion)
        p.setJWSTypeVerifier(new DefaultJOSEObjectTypeVerifier<>(new JOSEObjectType("at+jwt")));
        p.setJWSKeySelector(new JWSVerificationKeySelector<>(k.alg(), new ImmutableJWKSet<>(k.publicJwks())));
        p.setJWTClaimsSetVerifier(new DefaultJWTClaimsVerifier<>(
                new JWTClaimsSet.Builder().issuer(publicUrl.issuer(tenantId)).build(),
                new HashSet<>(List.of("sub", "exp", "iat", "client_id"))));
        try {
            JWTClaimsSet claims = p.process(bearer, null);
            Object tenantClaim = claims.getClaim("tenant");
            if (tenantClaim != null && !tenantId.equals(tenantClaim)) {
                throw new InvalidToken("token of another tenant", "other_tenant");
            }
            return claims;
        } catch (InvalidToken e) {
            throw e;
        } catch (Exception e) {
            throw new InvalidToken("invalid access token");
        }
    }

    public AuditEntry record(String tenantId, String bearer, Report report, RequestMeta meta) {
        JWTClaimsSet claims;
        try {
            claims = validate(tenantId, bearer);
        } catch (InvalidToken e) {
            rejected(tenantId, null, e.reason(), report, meta);
            throw e;
        }
        Optional<String> inactive = activity.inactiveReason(tenantId, claims);
        if (inactive.isPresent()) {
            rejected(tenantId, claims, inactive.get(), report, meta);
            throw new InvalidToken("the access token is not active", inactive.get());
        }
        if (report == null || report.tool() == null || !TOOL.matcher(report.tool()).matches()) {
            throw new InvalidReport("tool is required (1-128 letters, digits, _ . : / -)");
        }
        if (report.argumentsSha256() != null && !SHA256_HEX.matcher(report.argumentsSha256()).matches()) {
            throw new InvalidReport("arguments_sha256 must be 64 lowercase hex characters");
        }
        if (!"ok".equals(report.status()) && !"error".equals(report.status())) {
            throw new InvalidReport("status must be ok or error");
        }
        if (report.resource() != null && report.resource().length() > 512) {
            throw new InvalidReport("resource too long");
        }
        List<String> chain = actChain(claims.getClaim("act"));
        String subIss = null;
        Object subId = claims.getClaim("sub_id");
        if (subId instanceof Map<?, ?> m && m.get("iss") != null) {
            subIss = m.get("iss").toString();
        }
        List<String> aud = claims.getAudience();
        String resource = report.resource() != null ? report.resource() : aud.isEmpty() ? null : aud.get(0);
        String agent = !chain.isEmpty() ? chain.get(0) : subIss == null ? claims.getSubject() : null;
        Object scope = claims.getClaim("scope");
        AuditEvent.Builder b = AuditEvent.of(tenantId, EventTypes.TOOL_CALL,
                        "ok".equals(report.status()) ? AuditEvent.Outcome.SUCCESS : AuditEvent.Outcome.FAILURE)
                .subject(claims.getSubject(), subIss)
                .actors(chain)
                .agent(agent)
                .client(str(claims.getClaim("client_id")))
                .resource(resource)
                .scopes(scope == null ? null : scope.toString())
                .request(meta)
                .detail("tool", report.tool())
                .detail("arguments_sha256", report.argumentsSha256())
                .detail("status", report.status())
                .detail("token_jti", claims.getJWTID())
                .detail("token_aud", aud);
        return log.append(b.build());
    }

    private void rejected(String tenantId, JWTClaimsSet claims, String reason, Report report, RequestMeta meta) {
        AuditEvent.Builder b = AuditEvent.of(tenantId, EventTypes.TOOL_CALL_REJECTED, AuditEvent.Outcome.FAILURE)
                .request(meta).detail("error", "invalid_token").detail("reason", reason)
                .detail("tool", report != null && report.tool() != null && TOOL.matcher(report.tool()).matches()
                        ? report.tool() : null);
        if (claims != null) {
            // the token verified (signature, issuer, expiry): its identifiers are facts worth keeping
            List<String> chain = actChain(claims.getClaim("act"));
            Object subId = claims.getClaim("sub_id");
            String subIss = subId instanceof Map<?, ?> m && m.get("iss") != null ? m.get("iss").toString() : null;
            b.subject(claims.getSubject(), subIss).actors(chain)
                    .agent(!chain.isEmpty() ? chain.get(0) : subIss == null ? claims.getSubject() : null)
                    .client(str(claims.getClaim("client_id"))).detail("token_jti", claims.getJWTID());
        }
        log.append(b.build());
    }

    /** RFC 8693 §4.1: {@code act: {sub: B, act: {sub: A}}} → [B, A], current actor first. */
    static List<String> actChain(Object act) {
        List<String> chain = new ArrayList<>();
        Object cur = act;
        while (cur instanceof Map<?, ?> m && chain.size() < MAX_ACT_DEPTH) {
            Object sub = m.get("sub");
            if (sub != null) {
                chain.add(sub.toString());
            }
            cur = m.get("act");
        }
        return chain;
    }

    private static String str(Object o) {
        return o == null ? null : o.toString();
    }

}
