package dev.deputy.broker.governance;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jwt.JWTClaimsSet;
import dev.deputy.broker.agent.Resource;
import dev.deputy.broker.config.ApprovalsFile;
import dev.deputy.broker.oauth.AgentDirectory;
import dev.deputy.broker.oauth.DeputyTokens;
import dev.deputy.policy.Effect;
import dev.deputy.policy.ToolDecision;
import dev.deputy.policy.ToolInput;
import jakarta.inject.Singleton;

import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A {@code require_approval} decision with the transaction-bound token of an approved CIBA request (the PEP passes it
 * in the AuthZEN {@code context.approval_token}): permit exactly when the token is one of Deputy's, active, about this
 * user through this actor chain, for this MCP server, and its {@code authorization_details} hold a
 * {@code deputy_tool_call} of this tool with these arguments — and it was not used before. The first such permit
 * consumes the token on every node ({@link Approvals#consume}); a second identical call stays {@code require_approval}.
 */
@Singleton
public class ApprovedCalls {
    private static final ObjectMapper JSON = new ObjectMapper().enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS);
    /** Numbers compare by value (25000 = 25000.0), everything else exactly. */
    private static final Comparator<JsonNode> VALUES = (a, b) -> a.isNumber() && b.isNumber()
            ? a.decimalValue().compareTo(b.decimalValue()) : a.equals(b) ? 0 : 1;

    private final DeputyTokens tokens;
    private final Approvals approvals;
    private final AgentDirectory directory;

    public ApprovedCalls(DeputyTokens tokens, Approvals approvals, AgentDirectory directory) {
        this.tokens = tokens;
        this.approvals = approvals;
        this.directory = directory;
    }

    /** {@code d} itself unless it is require_approval and a token came with it. */
    ToolDecisions.Decided apply(String tenantId, ToolDecisions.Decided d, String approvalToken) {
        if (approvalToken == null || d.decision().effect() != Effect.REQUIRE_APPROVAL) {
            return d;
        }
        ToolInput in = d.input();
        DeputyTokens.Verdict v = approvalToken.length() > 16384 ? null : tokens.check(tenantId, approvalToken);
        if (v == null || !v.active()) {
            return refused(d, null, "the approval token is " + (v == null ? "malformed" : v.inactive()));
        }
        JWTClaimsSet c = v.claims();
        String jti = c.getJWTID();
        if (!in.subject().id().equals(c.getSubject())) {
            return refused(d, jti, "the approval token is about another user");
        }
        List<String> chain = in.actors().stream().map(ToolInput.Actor::id).toList();
        if (!chain.equals(DeputyTokens.actorChain(c))) {
            return refused(d, jti, "the approval token names another actor chain");
        }
        if (c.getAudience() == null || c.getAudience().stream().noneMatch(a -> sameServer(tenantId, a, in.server()))) {
            return refused(d, jti, "the approval token is for another MCP server");
        }
        if (!matches(c.getClaim("authorization_details"), in)) {
            return refused(d, jti, "the approved transaction is not this call (tool or arguments differ)");
        }
        if (!approvals.consume(tenantId, jti, c.getExpirationTime().toInstant())) {
            return refused(d, jti, "the approval was already used");
        }
        ToolDecision t = d.decision();
        Map<String, Object> inputs = new LinkedHashMap<>(t.inputs());
        inputs.put("approval_jti", jti);
        return new ToolDecisions.Decided(in, new ToolDecision(Effect.PERMIT, t.rule(),
                "rule " + t.rule() + ": approved by the user (CIBA, approval token " + jti + ")", inputs), jti, null);
    }

    private static ToolDecisions.Decided refused(ToolDecisions.Decided d, String jti, String why) {
        ToolDecision t = d.decision();
        return new ToolDecisions.Decided(d.input(), new ToolDecision(t.effect(), t.rule(), t.reason() + "; " + why,
                t.inputs()), jti, why);
    }

    private boolean sameServer(String tenantId, String aud, String server) {
        if (Resource.canonical(aud).equals(Resource.canonical(server))) {
            return true;
        }
        // the PEP may name its server by the resource's id
        return directory.resources(tenantId).stream().anyMatch(r -> r.id().equals(server)
                && Resource.canonical(r.uri()).equals(Resource.canonical(aud)));
    }

    /** RFC 9396: some {@code deputy_tool_call} of the token is exactly this call. */
    static boolean matches(Object details, ToolInput in) {
        if (!(details instanceof List<?> list)) {
            return false;
        }
        JsonNode args = JSON.valueToTree(in.arguments() == null ? Map.of() : in.arguments());
        for (Object o : list) {
            if (!(o instanceof Map<?, ?> m) || !ApprovalsFile.TOOL_CALL.equals(m.get("type"))
                    || !Objects.equals(in.tool(), m.get("tool"))) {
                continue;
            }
            // (RFC 9396 locations were checked against the token's resource when the request was accepted; the
            // token's aud binds the server here)
            Object approved = m.get("arguments") == null ? Map.of() : m.get("arguments");
            if (JSON.valueToTree(approved).equals(VALUES, args)) {
                return true;
            }
        }
        return false;
    }
}
