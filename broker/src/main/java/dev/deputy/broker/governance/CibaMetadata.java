package dev.deputy.broker.governance;

import com.nimbusds.oauth2.sdk.as.AuthorizationServerMetadata;
import com.nimbusds.oauth2.sdk.ciba.BackChannelTokenDeliveryMode;
import com.nimbusds.oauth2.sdk.rar.AuthorizationType;
import dev.deputy.broker.metadata.MetadataContributor;
import dev.deputy.broker.oauth.Endpoints;
import dev.deputy.broker.tenant.Tenant;
import jakarta.inject.Singleton;

import java.net.URI;
import java.util.List;

/**
 * OpenID CIBA Core 1.0 §4 in the tenant's metadata: the backchannel authentication endpoint, the delivery modes
 * (poll and ping; not push), no {@code user_code}; and RFC 9396 §10 {@code authorization_details_types_supported}.
 * The grant type itself is in {@code grant_types_supported} through its handler.
 */
@Singleton
class CibaMetadata implements MetadataContributor {
    private final Endpoints endpoints;
    private final ApprovalSettings settings;

    CibaMetadata(Endpoints endpoints, ApprovalSettings settings) {
        this.endpoints = endpoints;
        this.settings = settings;
    }

    @Override
    public void contribute(Tenant tenant, String issuer, AuthorizationServerMetadata md) {
        md.setBackChannelAuthenticationEndpointURI(URI.create(endpoints.issuer(tenant.id()) + "/bc-authorize"));
        md.setBackChannelTokenDeliveryModes(List.of(BackChannelTokenDeliveryMode.POLL, BackChannelTokenDeliveryMode.PING));
        md.setSupportsBackChannelUserCodeParam(false);
        md.setAuthorizationDetailsTypes(settings.of(tenant.id()).authorizationDetailsTypes().stream()
                .map(AuthorizationType::new).toList());
    }

    /** CIBA §4: {@code backchannel_user_code_parameter_supported} is stated as false (Nimbus renders only true). */
    @Override
    public void complete(Tenant tenant, java.util.Map<String, Object> json) {
        json.putIfAbsent("backchannel_user_code_parameter_supported", false);
    }
}
