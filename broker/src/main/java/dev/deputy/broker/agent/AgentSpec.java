package dev.deputy.broker.agent;

import java.util.List;
import java.util.Map;

/**
 * A new agent, as an admin or a config file describes it.
 *
 * @param id         optional: a fresh {@code agt-…} id when absent
 * @param name       optional: the id when absent
 * @param authMethod {@code tls_client_auth}, {@code self_signed_tls_client_auth} or {@code private_key_jwt}
 * @param credential optional first credential (not for tls_client_auth: its certificates come from the CA)
 */
public record AgentSpec(String id, String name, String owner, String environment, List<String> roles,
                        Map<String, Object> metadata, String authMethod, CredentialSpec credential) {
}
