package dev.deputy.broker.agent;

import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * An agent: a principal of its own, distinct from users and OAuth clients. Its id (chosen by the author,
 * unique in the tenant) is the {@code client_id} of its credentials and the {@code sub} / {@code act.sub}
 * its tokens carry.
 *
 * @param owner      the user responsible for it (an upstream {@code sub} or an email)
 * @param authMethod how it must authenticate at the token endpoint (one method per agent)
 * @param managedBy  {@code config} when it comes from the policy-as-code tree, {@code api} when created by the admin API
 */
public record Agent(String tenantId, String id, String name, String owner, String environment, List<String> roles,
                    Map<String, Object> metadata, Status status, AuthMethod authMethod, String managedBy,
                    long createdAt, long updatedAt, Long statusChangedAt, Long lastSeenAt) {

    public static final Pattern ID = Pattern.compile("[a-z0-9][a-z0-9._-]{0,127}");

    public Agent {
        // the one id rule (Agents checks it with a friendly message first): an agent stored with any other id could
        // never authenticate (AgentDirectory finds only ids of this form), so no store takes one
        if (id == null || !ID.matcher(id).matches()) {
            throw new IllegalArgumentException("agent id must match " + ID.pattern());
        }
        roles = roles == null ? List.of() : List.copyOf(roles);
        metadata = metadata == null ? Map.of() : Map.copyOf(metadata);
    }

    public enum Status {
        ACTIVE, SUSPENDED, REVOKED;

        public String wire() {
            return name().toLowerCase();
        }
    }

    /** RFC 8705 §2.1 / §2.2 and RFC 7523 client authentication methods. */
    public enum AuthMethod {
        TLS_CLIENT_AUTH("tls_client_auth"),
        SELF_SIGNED_TLS_CLIENT_AUTH("self_signed_tls_client_auth"),
        PRIVATE_KEY_JWT("private_key_jwt");

        private final String wire;

        AuthMethod(String wire) {
            this.wire = wire;
        }

        public String wire() {
            return wire;
        }

        public static AuthMethod fromWire(String s) {
            for (AuthMethod m : values()) {
                if (m.wire.equals(s)) {
                    return m;
                }
            }
            throw new IllegalArgumentException("unknown auth method '" + s + "' (use tls_client_auth, "
                    + "self_signed_tls_client_auth or private_key_jwt)");
        }
    }

    public boolean active() {
        return status == Status.ACTIVE;
    }

    public Agent withStatus(Status s, long now) {
        return new Agent(tenantId, id, name, owner, environment, roles, metadata, s, authMethod, managedBy, createdAt, now,
                now, lastSeenAt);
    }
}
