package dev.deputy.broker.oauth;

import com.nimbusds.oauth2.sdk.auth.ClientAuthentication;
import com.nimbusds.oauth2.sdk.http.HTTPRequest;
import com.nimbusds.oauth2.sdk.id.ClientID;
import dev.deputy.broker.tenant.Tenant;

import java.util.Optional;
import java.util.Set;

/**
 * Authenticates the caller of a client-authenticated endpoint (behind the {@link ClientFrontDoor}: token,
 * introspection, revocation, tool-call reports). Several exist (agents, registered OAuth clients); the pipeline asks
 * each in order: empty means "not a client I know", an {@link OAuthException} ({@code invalid_client}) means "mine,
 * and it failed" — its description is the audited reason; the client only ever reads "client authentication failed".
 *
 * @param authentication the parsed client authentication (Nimbus), or null for a public client
 * @param publicClientId the {@code client_id} parameter of a public client (when authentication is null)
 */
public interface ClientAuthenticator {
    Optional<AuthenticatedClient> authenticate(Tenant tenant, String issuer, ClientAuthentication authentication,
                                               ClientID publicClientId, HTTPRequest httpRequest);

    /**
     * The same, marking one-time values (an assertion's {@code jti}) through {@code marks} (the front door's: at the
     * token endpoint they also take the client's rate-limit request in the same store round trip). An authenticator
     * that marks nothing keeps this default.
     */
    default Optional<AuthenticatedClient> authenticate(Tenant tenant, String issuer, ClientAuthentication authentication,
                                                       ClientID publicClientId, HTTPRequest httpRequest,
                                                       dev.deputy.broker.ephemeral.OneTimeMarks marks) {
        return authenticate(tenant, issuer, authentication, publicClientId, httpRequest);
    }

    /** The {@code token_endpoint_auth_methods_supported} values this authenticator implements (RFC 8414 §2). */
    default Set<String> methods() {
        return Set.of();
    }

    /** The {@code token_endpoint_auth_signing_alg_values_supported} values for JWT-based methods (RFC 8414 §2). */
    default Set<String> signingAlgs() {
        return Set.of();
    }
}
