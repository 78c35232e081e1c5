package dev.deputy.broker.grant.jwtbearer;

import com.nimbusds.oauth2.sdk.as.AuthorizationServerMetadata;
import dev.deputy.broker.metadata.MetadataContributor;
import dev.deputy.broker.tenant.Tenant;
import jakarta.inject.Singleton;

import java.util.List;

/** ID-JAG §6: a resource AS that accepts ID-JAGs advertises the grant profile (with jwt-bearer in grant_types_supported). */
@Singleton
class IdJagMetadata implements MetadataContributor {
    static final String PROFILE = "urn:ietf:params:oauth:grant-profile:id-jag";

    @Override
    public void contribute(Tenant tenant, String issuer, AuthorizationServerMetadata md) {
        md.setCustomParameter("authorization_grant_profiles_supported", List.of(PROFILE));
    }
}
