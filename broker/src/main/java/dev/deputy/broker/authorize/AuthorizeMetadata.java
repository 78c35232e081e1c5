package dev.deputy.broker.authorize;

import com.nimbusds.oauth2.sdk.ResponseMode;
import com.nimbusds.oauth2.sdk.ResponseType;
import com.nimbusds.oauth2.sdk.as.AuthorizationServerMetadata;
import dev.deputy.broker.metadata.MetadataContributor;
import dev.deputy.broker.tenant.Tenant;
import jakarta.inject.Singleton;

import java.net.URI;
import java.util.List;

/** RFC 8414 §2: the authorization endpoint, code only, query responses, and RFC 9207 {@code iss}. */
@Singleton
class AuthorizeMetadata implements MetadataContributor {
    @Override
    public void contribute(Tenant tenant, String issuer, AuthorizationServerMetadata md) {
        md.setAuthorizationEndpointURI(URI.create(issuer + "/authorize"));
        md.setResponseTypes(List.of(ResponseType.CODE));
        md.setResponseModes(List.of(ResponseMode.QUERY));
        // RFC 9207 §3: iss in every authorization response
        md.setSupportsAuthorizationResponseIssuerParam(true);
    }
}
