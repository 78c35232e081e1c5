package dev.deputy.broker.audit;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * One thing that happened, before it is sealed into the chain. Types come from {@link EventTypes}; the details a
 * type may carry, and their kinds, from {@link AuditSchema}. Construction never fails because of content: a value
 * that is a credential (JWT, PEM private key, admin or refresh token) or a details key the type does not declare is
 * redacted ({@code [redacted:jwt]}, {@code [redacted:undeclared]}) and raises an {@link AuditAlarms alarm}.
 *
 * @param actorChain the acting agents, outermost first ({@code [B, A]} for {@code act: {sub: B, act: {sub: A}}})
 * @param scopes     space-separated
 * @param details    the fields {@link AuditSchema} declares for the type; stored canonically (sorted keys)
 */
public record AuditEvent(String tenantId, String type, Outcome outcome, String subject, String subjectIss,
                         List<String> actorChain, String agentId, String clientId, String resource, String scopes,
                         String correlationId, String requestId, String sourceIp, Map<String, Object> details) {

    public enum Outcome { SUCCESS, FAILURE, DENY, ALLOW, INFO }

    public AuditEvent {
        if (tenantId == null || type == null || outcome == null) {
            throw new IllegalArgumentException("tenant, type and outcome are required");
        }
        // Typed by construction (AuditSchema): identifiers are kept byte for byte, undeclared or credential-shaped
        // content is redacted with an alarm; nothing here throws, so no request fails and no committed change
        // loses its entry because of what the event carries.
        subject = AuditSchema.identifierField(tenantId, type, "subject", subject);
        subjectIss = AuditSchema.identifierField(tenantId, type, "subject_iss", subjectIss);
        clientId = AuditSchema.identifierField(tenantId, type, "client_id", clientId);
        resource = AuditSchema.identifierField(tenantId, type, "resource", resource);
        scopes = AuditSchema.identifierField(tenantId, type, "scopes", scopes);
        agentId = AuditSchema.identifierField(tenantId, type, "agent_id", agentId);
        // the correlation id may come from the caller (X-Request-Id): an identifier like the others
        correlationId = AuditSchema.identifierField(tenantId, type, "correlation_id", correlationId);
        requestId = AuditSchema.identifierField(tenantId, type, "request_id", requestId);
        sourceIp = AuditSchema.identifierField(tenantId, type, "source_ip", sourceIp);
        if (actorChain == null) {
            actorChain = List.of();
        } else {
            List<String> actors = new java.util.ArrayList<>(actorChain.size());
            for (String a : actorChain) {
                if (a != null) {
                    actors.add(AuditSchema.identifierField(tenantId, type, "actor", a));
                }
            }
            actorChain = java.util.Collections.unmodifiableList(actors);
        }
        details = details == null || details.isEmpty() ? Map.of()
                : java.util.Collections.unmodifiableMap(AuditSchema.sanitize(tenantId, type, details));
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
