package dev.deputy.broker.registration;

import com.nimbusds.oauth2.sdk.as.AuthorizationServerMetadata;
import dev.deputy.broker.metadata.MetadataContributor;
import dev.deputy.broker.tenant.Tenant;
import jakarta.inject.Singleton;

import java.net.URI;

/** RFC 8414 {@code registration_endpoint} when DCR is open; CIMD support when the tenant accepts URL client_ids. */
@Singleton
class RegistrationMetadata implements MetadataContributor {
    private final RegistrationPolicies policies;

    RegistrationMetadata(RegistrationPolicies policies) {
        this.policies = policies;
    }

    @Override
    public void contribute(Tenant tenant, String issuer, AuthorizationServerMetadata md) {
        RegistrationPolicy p = policies.of(tenant.id());
        if (p.open()) {
            md.setRegistrationEndpointURI(URI.create(issuer + "/register"));
        }
        if (p.clientIdMetadataDocuments()) {
            // draft-ietf-oauth-client-id-metadata-document §5
            md.setCustomParameter("client_id_metadata_document_supported", true);
        }
    }
}
