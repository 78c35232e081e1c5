package dev.deputy.broker.metadata;

import com.nimbusds.oauth2.sdk.as.AuthorizationServerMetadata;
import dev.deputy.broker.tenant.Tenant;

/**
 * A feature's part of the tenant's RFC 8414 / OpenID discovery document. Each feature (a grant, an
 * endpoint) contributes what it implements, so the metadata never advertises what is not there.
 */
public interface MetadataContributor {
    void contribute(Tenant tenant, String issuer, AuthorizationServerMetadata metadata);

    /** After Nimbus rendered the document: members Nimbus leaves out (a {@code false} it renders only as absent). */
    default void complete(Tenant tenant, java.util.Map<String, Object> json) {
    }
}
