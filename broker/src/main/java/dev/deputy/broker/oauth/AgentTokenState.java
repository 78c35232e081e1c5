package dev.deputy.broker.oauth;

import com.nimbusds.jwt.JWTClaimsSet;
import dev.deputy.broker.agent.Agent;
import jakarta.inject.Singleton;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Whether the agents a valid token names are still in good standing: the agent acting alone ({@code sub} of a
 * token without {@code sub_id}) and every agent in the {@code act} chain (RFC 8693 §4.1). Lookups go through the
 * {@link AgentDirectory}, so a suspension or revocation takes effect on every node at once.
 */
@Singleton
public class AgentTokenState {
    private final AgentDirectory directory;

    public AgentTokenState(AgentDirectory directory) {
        this.directory = directory;
    }

    /** The agents the token depends on: the act chain (outermost first), then {@code sub} when it is an agent. */
    public static List<String> agents(JWTClaimsSet claims) {
        List<String> out = new ArrayList<>(actorChain(claims));
        if (claims.getClaim("sub_id") == null && claims.getSubject() != null) {
            out.add(claims.getSubject());
        }
        return out;
    }

    public static List<String> actorChain(JWTClaimsSet claims) {
        List<String> chain = new ArrayList<>();
        Object act = claims.getClaim("act");
        int depth = 0;
        while (act instanceof Map<?, ?> m && depth++ < 32) {
            Object sub = m.get("sub");
            if (sub instanceof String s) {
                chain.add(s);
            }
            act = m.get("act");
        }
        return chain;
    }

    /** Whether the agent exists in the tenant and is active. */
    public boolean active(String tenantId, String agentId) {
        return agentId != null && directory.agent(tenantId, agentId).filter(Agent::active).isPresent();
    }

    /** Empty when every agent is active; otherwise a reason such as {@code agent_suspended}. */
    public Optional<String> problem(String tenantId, JWTClaimsSet claims) {
        for (String agentId : agents(claims)) {
            Optional<Agent> a = directory.agent(tenantId, agentId);
            if (a.isEmpty()) {
                return Optional.of("agent_unknown");
            }
            if (!a.get().active()) {
                return Optional.of("agent_" + a.get().status().wire());
            }
        }
        return Optional.empty();
    }
}
