package dev.deputy.broker.audit;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * One thing that happened, before it is sealed into the chain. Never put a token, secret, assertion or
 * password in it: identifiers, digests and safe reasons only. {@link SecretGuard} refuses (throws
 * {@link SecretGuard.UnsafeAuditContent}) details keys naming secrets and values shaped like JWTs, PEM private
 * keys or admin tokens. Types come from {@link EventTypes}.
 *
 * @param actorChain the acting agents, outermost first ({@code [B, A]} for {@code act: {sub: B, act: {sub: A}}})
 * @param scopes     space-separated
 * @param details    free, JSON-serialisable; stored canonically (sorted keys)
 */
public record AuditEvent(String tenantId, String type, Outcome outcome, String subject, String subjectIss,
                         List<String> actorChain, String agentId, String clientId, String resource, String scopes,
                         String correlationId, String requestId, String sourceIp, Map<String, Object> details) {

    public enum Outcome { SUCCESS, FAILURE, DENY, ALLOW, INFO }

    public AuditEvent {
        if (tenantId == null || type == null || outcome == null) {
            throw new IllegalArgumentException("tenant, type and outcome are required");
        }
        actorChain = actorChain == null ? List.of() : List.copyOf(actorChain);
        details = details == null ? Map.of() : new TreeMap<>(details);
        // Never a token, secret, assertion or password in the trail (refused here, before anything is sealed).
        SecretGuard.checkField("subject", subject);
        SecretGuard.checkField("client_id", clientId);
        SecretGuard.checkField("resource", resource);
        SecretGuard.checkField("scopes", scopes);
        SecretGuard.checkField("agent_id", agentId);
        for (String a : actorChain) {
            SecretGuard.checkField("actor", a);
        }
        SecretGuard.checkDetails(details);
    }

    public static Builder of(String tenantId, String type, Outcome outcome) {
        return new Builder(tenantId, type, outcome);
    }

    /** Fluent construction; fields left unset are null. */
    public static final class Builder {
        private final String tenantId;
        private final String type;
        private final Outcome outcome;
        private String subject;
        private String subjectIss;
        private List<String> actorChain;
        private String agentId;
        private String clientId;
        private String resource;
        private String scopes;
        private String correlationId;
        private String requestId;
        private String sourceIp;
        private final Map<String, Object> details = new TreeMap<>();

        private Builder(String tenantId, String type, Outcome outcome) {
            this.tenantId = tenantId;
            this.type = type;
            this.outcome = outcome;
        }

        public Builder subject(String sub, String iss) {
            this.subject = sub;
            this.subjectIss = iss;
            return this;
        }

        public Builder actors(List<String> chain) {
            this.actorChain = chain;
            return this;
        }

        public Builder agent(String agentId) {
            this.agentId = agentId;
            return this;
        }

        public Builder client(String clientId) {
            this.clientId = clientId;
            return this;
        }

        public Builder resource(String resource) {
            this.resource = resource;
            return this;
        }

        public Builder scopes(String scopes) {
            this.scopes = scopes;
            return this;
        }

        public Builder request(RequestMeta meta) {
            if (meta != null) {
                this.correlationId = meta.correlationId();
                this.requestId = meta.requestId();
                this.sourceIp = meta.sourceIp();
            }
            return this;
        }

        public Builder detail(String key, Object value) {
            if (value != null) {
                details.put(key, value);
            }
            return this;
        }

        public AuditEvent build() {
            return new AuditEvent(tenantId, type, outcome, subject, subjectIss, actorChain, agentId, clientId, resource,
                    scopes, correlationId, requestId, sourceIp, details);
        }
    }
}
