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
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Tool calls reported by resource servers (MCP servers), authenticated by the caller's Deputy access token:
 * the entry links the call to the token's {@code sub}/{@code sub_id}, {@code act} chain, {@code client_id}
 * and {@code aud}, and to the request's correlation id.
 */
@Singleton
public class ToolCallReports {
    private static final Pattern SHA256_HEX = Pattern.compile("^[0-9a-f]{64}$");
    private static final Pattern TOOL = Pattern.compile("^[\\p{L}\\p{N}_.:/-]{1,128}$");
    private static final int MAX_ACT_DEPTH = 16;

    private final SigningKeys keys;
    private final PublicUrl publicUrl;
    private final AuditLog log;

    public ToolCallReports(SigningKeys keys, PublicUrl publicUrl, AuditLog log) {
        this.keys = keys;
        this.publicUrl = publicUrl;
        this.log = log;
    }

    /** The bearer token is missing, invalid, expired or of another tenant (RFC 6750 §3.1 invalid_token). */
    public static final class InvalidToken extends RuntimeException {
        public InvalidToken(String message) {
            super(message);
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
            throw new InvalidToken("a Deputy access token is required");
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
                throw new InvalidToken("token of another tenant");
            }
            return claims;
        } catch (InvalidToken e) {
            throw e;
        } catch (Exception e) {
            throw new InvalidToken("invalid access token");
        }
    }

    public AuditEntry record(String tenantId, String bearer, Report report, RequestMeta meta) {
        JWTClaimsSet claims = validate(tenantId, bearer);
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
