package dev.deputy.broker.agent;

import java.util.List;
import java.util.Map;

/** A partial update: null fields stay as they are. The id, auth method and status are not patchable. */
public record AgentPatch(String name, String owner, String environment, List<String> roles,
                         Map<String, Object> metadata) {
    public boolean empty() {
        return name == null && owner == null && environment == null && roles == null && metadata == null;
    }
}
