package dev.deputy.broker.oauth;

import com.nimbusds.oauth2.sdk.TokenRequest;
import com.nimbusds.oauth2.sdk.http.HTTPRequest;
import dev.deputy.broker.tenant.Tenant;

import java.util.Optional;

/**
 * Authenticates the caller of the token (and introspection / revocation) endpoint. Several exist (agents,
 * registered OAuth clients); the pipeline asks each in order: empty means "not a client I know", an
 * {@link OAuthException} ({@code invalid_client}) means "mine, and it failed".
 */
public interface ClientAuthenticator {
    Optional<AuthenticatedClient> authenticate(Tenant tenant, String issuer, TokenRequest request, HTTPRequest httpRequest);
}
