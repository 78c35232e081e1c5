package dev.deputy.broker.oauth;

import com.nimbusds.oauth2.sdk.TokenRequest;
import com.nimbusds.oauth2.sdk.http.HTTPRequest;
import dev.deputy.broker.audit.RequestMeta;
import dev.deputy.broker.tenant.Tenant;

/**
 * Everything a {@link GrantHandler} gets: the tenant and its issuer, the parsed request (and the raw one for
 * parameters Nimbus does not model), the authenticated client and the request metadata for audit.
 */
public record TokenContext(Tenant tenant, String issuer, TokenRequest request, HTTPRequest httpRequest,
                           AuthenticatedClient client, RequestMeta meta) {
}
