package dev.deputy.broker.admin;

import dev.deputy.broker.agent.Actor;
import dev.deputy.broker.agent.AgentException;
import dev.deputy.broker.agent.ClientStore;
import dev.deputy.broker.agent.OAuthClient;
import dev.deputy.broker.audit.AuditEvent;
import dev.deputy.broker.audit.AuditTransactions;
import dev.deputy.broker.audit.EventTypes;
import dev.deputy.broker.audit.RequestMeta;
import dev.deputy.broker.registration.RegistrationStore;
import jakarta.inject.Singleton;

/**
 * The client changes of the admin API ({@link ClientsController}) that the console's client pages make too: marking a
 * client internal or external, deleting one (a DCR client's registration goes with it). Config-managed clients change
 * in their files only. Each change and its audit entry commit together.
 */
@Singleton
public class ClientAdmin {
    private final ClientStore clients;
    private final RegistrationStore registrations;
    private final AuditTransactions audited;

    ClientAdmin(ClientStore clients, RegistrationStore registrations, AuditTransactions audited) {
        this.clients = clients;
        this.registrations = registrations;
        this.audited = audited;
    }

    public OAuthClient find(String tenant, String clientId) {
        return clients.find(tenant, clientId).orElseThrow(() -> AgentException.notFound("no client " + clientId));
    }

    /** {@code PATCH …/clients/<id>} with {@code {"internal": …}}: audited {@code client.updated}. */
    public OAuthClient setInternal(String tenant, String clientId, boolean internal, Actor actor, RequestMeta meta) {
        OAuthClient old = find(tenant, clientId);
        if ("config".equals(old.managedBy())) {
            throw AgentException.conflict("client " + clientId + " is managed by a config file: change the file");
        }
        OAuthClient c = new OAuthClient(tenant, clientId, old.name(), old.redirectUris(), internal, old.authMethod(),
                old.secretHash(), old.managedBy(), old.createdAt(), System.currentTimeMillis());
        audited.run(tenant, audit -> {
            clients.save(c);
            return audit.append(event(tenant, EventTypes.CLIENT_UPDATED, c, actor, meta));
        });
        return c;
    }

    /** {@code DELETE …/clients/<id>}: audited {@code client.deleted}. */
    public void delete(String tenant, String clientId, Actor actor, RequestMeta meta) {
        OAuthClient c = find(tenant, clientId);
        if ("config".equals(c.managedBy())) {
            throw AgentException.conflict("client " + clientId + " is managed by a config file: remove the file");
        }
        audited.run(tenant, audit -> {
            clients.delete(tenant, clientId);
            registrations.delete(tenant, clientId);
            return audit.append(event(tenant, EventTypes.CLIENT_DELETED, c, actor, meta));
        });
    }

    static AuditEvent event(String tenant, String type, OAuthClient c, Actor actor, RequestMeta meta) {
        return AuditEvent.of(tenant, type, AuditEvent.Outcome.SUCCESS).request(meta)
                .client(c.clientId()).detail("actor", actor.label()).detail("internal", c.internal())
                .detail("managed_by", c.managedBy()).detail("redirect_uris", c.redirectUris()).build();
    }
}
