package dev.deputy.broker.registration;

import dev.deputy.broker.agent.ClientLookup;
import dev.deputy.broker.agent.ClientStore;
import dev.deputy.broker.agent.OAuthClient;
import dev.deputy.broker.audit.AuditEvent;
import dev.deputy.broker.audit.AuditEvent.Outcome;
import dev.deputy.broker.audit.AuditLog;
import dev.deputy.broker.audit.RequestMeta;
import jakarta.inject.Singleton;

import java.time.Clock;
import java.util.Optional;

/**
 * The one client lookup of the authorization endpoint and of public-client authentication: registered clients
 * (config, admin API, DCR; a DCR client unused past the tenant's expiry is removed here) and, for an https
 * {@code client_id} the tenant has no row for, its Client ID Metadata Document. A refused document is audited
 * ({@code client.cimd_rejected}) and looks like an unknown client to the caller.
 */
@Singleton
public class ClientDirectory implements ClientLookup {
    private final ClientStore store;
    private final RegistrationStore registrations;
    private final RegistrationPolicies policies;
    private final ClientIdMetadataDocuments cimd;
    private final ClientRegistrations dcr;
    private final AuditLog audit;
    private final Clock clock = Clock.systemUTC();

    public ClientDirectory(ClientStore store, RegistrationStore registrations, RegistrationPolicies policies,
                           ClientIdMetadataDocuments cimd, ClientRegistrations dcr, AuditLog audit) {
        this.store = store;
        this.registrations = registrations;
        this.policies = policies;
        this.cimd = cimd;
        this.dcr = dcr;
        this.audit = audit;
    }

    @Override
    public Optional<OAuthClient> find(String tenantId, String clientId) {
        if (clientId == null || clientId.isEmpty() || clientId.length() > 255) {
            return Optional.empty();
        }
        Optional<OAuthClient> stored = store.find(tenantId, clientId);
        if (stored.isPresent()) {
            return "dcr".equals(stored.get().managedBy()) ? dynamic(stored.get()) : stored;
        }
        RegistrationPolicy policy = policies.of(tenantId);
        if (!policy.clientIdMetadataDocuments() || !ClientIdMetadataDocuments.looksLikeUrl(clientId)) {
            return Optional.empty();
        }
        try {
            return Optional.of(cimd.client(tenantId, cimd.resolve(clientId)));
        } catch (ClientIdMetadataDocuments.Rejected e) {
            audit.append(AuditEvent.of(tenantId, "client.cimd_rejected", Outcome.FAILURE).client(clientId)
                    .request(RequestMeta.INTERNAL).detail("reason", e.reason())
                    .detail("description", ClientRegistrations.clip(e.getMessage())).build());
            return Optional.empty();
        }
    }

    /**
     * A DCR client past its expiry (never used within pending_expiry, or no token within unused_expiry of the last) is
     * removed here. A lookup is not a use: only an issued token is ({@link RegistrationUsage}), so a bare
     * {@code /authorize} cannot keep a registration alive (issue 14 finding 4).
     */
    private Optional<OAuthClient> dynamic(OAuthClient c) {
        Optional<Registration> r = registrations.find(c.tenantId(), c.clientId());
        if (r.isEmpty()) {
            return Optional.of(c);
        }
        if (r.get().expiresAt(policies.of(c.tenantId())) < clock.millis()) {
            dcr.expire(r.get(), RequestMeta.INTERNAL);
            return Optional.empty();
        }
        return Optional.of(c);
    }
}
