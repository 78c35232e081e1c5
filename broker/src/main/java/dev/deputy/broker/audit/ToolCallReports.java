package dev.deputy.broker.audit;

import com.nimbusds.jwt.JWTClaimsSet;
import jakarta.inject.Singleton;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Tool calls reported by resource servers (MCP servers). The endpoint ({@code oauth.ToolCallEndpoint}, behind the
 * client front door) has authenticated the reporter and verified the caller's Deputy access token (signature,
 * activity, certificate binding, {@code resource} among its {@code aud}); this records the call, linking it to the
 * token's {@code sub}/{@code sub_id}, {@code act} chain, {@code client_id} and {@code aud}, to the reporter and to
 * the request's correlation id, and builds the {@code tool.call.rejected} entry of a refused report (a safe reason,
 * never the token).
 */
@Singleton
public class ToolCallReports {
    private static final Pattern SHA256_HEX = Pattern.compile("^[0-9a-f]{64}$");
    private static final Pattern TOOL = Pattern.compile("^[\\p{L}\\p{N}_.:/-]{1,128}$");
    private static final int MAX_ACT_DEPTH = 16;

    private final AuditLog log;

    public ToolCallReports(AuditLog log) {
        this.log = log;
    }

    /** The report body is malformed (400 invalid_request); the message is safe to show. */
    public static final class InvalidReport extends RuntimeException {
        public InvalidReport(String message) {
            super(message, null, false, false);
        }
    }

    public record Report(String tool, String argumentsSha256, String status, String resource) {
    }

    /** The report's own fields; throws {@link InvalidReport}. */
    public static void check(Report report) {
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
    }

    /**
     * Records a checked report under verified, active claims; {@code resource} is the checked audience;
     * {@code cnfVerified} is null for a token without {@code cnf}, else whether the caller's certificate was checked.
     */
    public AuditEntry record(String tenantId, JWTClaimsSet claims, Report report, String resource, String reporter,
                             Boolean cnfVerified, RequestMeta meta) {
        List<String> chain = actChain(claims.getClaim("act"));
        String subIss = null;
        Object subId = claims.getClaim("sub_id");
        if (subId instanceof Map<?, ?> m && m.get("iss") != null) {
            subIss = m.get("iss").toString();
        }
        List<String> aud = claims.getAudience();
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
                .detail("token_aud", aud)
                .detail("reporter", reporter)
                .detail("cnf_verified", cnfVerified);
        return log.append(b.build());
    }

    /** The one {@code tool.call.rejected} entry of a refused report; {@code claims} when the token verified. */
    public static AuditEvent rejected(String tenantId, JWTClaimsSet claims, String error, String reason, Report report,
                                      String reporter, RequestMeta meta) {
        AuditEvent.Builder b = AuditEvent.of(tenantId, EventTypes.TOOL_CALL_REJECTED, AuditEvent.Outcome.FAILURE)
                .request(meta).detail("error", error).detail("reason", reason).detail("reporter", reporter)
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
        } else {
            b.client(reporter);
        }
        return b.build();
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
