package dev.deputy.broker.pki;

import dev.deputy.broker.agent.AgentChanges;
import dev.deputy.broker.agent.AgentStore;
import dev.deputy.broker.audit.AuditEvent;
import dev.deputy.broker.audit.AuditLog;
import dev.deputy.broker.audit.RequestMeta;
import jakarta.inject.Singleton;

import java.time.Duration;
import java.time.Instant;

/**
 * An admin's certificate request for an agent: issue from the CSR, optionally rotate (the agent's other
 * credentials keep working only for the overlap), tell every node, and audit with the admin's identity.
 */
@Singleton
public class CertificateIssuance {
    private final AgentCa ca;
    private final AgentStore agents;
    private final AgentChanges changes;
    private final AuditLog audit;

    public CertificateIssuance(AgentCa ca, AgentStore agents, AgentChanges changes, AuditLog audit) {
        this.ca = ca;
        this.agents = agents;
        this.changes = changes;
        this.audit = audit;
    }

    /**
     * @param rotate  when true, every other credential of the agent gets {@code valid_until = now + overlap}
     * @param overlap how long the old credentials keep working (default 1h when rotating)
     */
    public AgentCa.Issued issue(String tenantId, String agentId, String csrPem, Duration ttl, boolean rotate,
                                Duration overlap, String admin, RequestMeta meta) {
        AgentCa.Issued issued;
        try {
            issued = ca.issue(tenantId, agentId, csrPem, ttl);
        } catch (CsrException e) {
            audit.append(AuditEvent.of(tenantId, "agent.certificate.issued", AuditEvent.Outcome.FAILURE)
                    .agent(agentId).request(meta).detail("admin", admin).detail("reason", e.getMessage()).build());
            throw e;
        }
        Long validUntil = null;
        if (rotate) {
            Duration o = overlap == null ? Duration.ofHours(1) : overlap;
            validUntil = Instant.now().plus(o).toEpochMilli();
            agents.limitCredentials(tenantId, agentId, validUntil, issued.credentialId());
        }
        changes.changed(tenantId, agentId);
        audit.append(AuditEvent.of(tenantId, "agent.certificate.issued", AuditEvent.Outcome.SUCCESS)
                .agent(agentId).client(agentId).request(meta)
                .detail("admin", admin).detail("serial", issued.serial()).detail("thumbprint", issued.thumbprint())
                .detail("not_after", issued.notAfter().getEpochSecond()).detail("rotate", rotate)
                .detail("others_valid_until", validUntil == null ? null : validUntil / 1000)
                .build());
        return issued;
    }
}
