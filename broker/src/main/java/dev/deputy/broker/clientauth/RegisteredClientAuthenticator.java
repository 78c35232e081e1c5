package dev.deputy.broker.clientauth;

import com.nimbusds.oauth2.sdk.OAuth2Error;
import com.nimbusds.oauth2.sdk.auth.ClientAuthentication;
import com.nimbusds.oauth2.sdk.auth.ClientSecretBasic;
import com.nimbusds.oauth2.sdk.auth.ClientSecretPost;
import com.nimbusds.oauth2.sdk.http.HTTPRequest;
import com.nimbusds.oauth2.sdk.id.ClientID;
import dev.deputy.broker.agent.ClientSecrets;
import dev.deputy.broker.agent.ClientLookup;
import dev.deputy.broker.agent.OAuthClient;
import dev.deputy.broker.oauth.AuthenticatedClient;
import dev.deputy.broker.oauth.ClientAuthenticator;
import dev.deputy.broker.oauth.OAuthException;
import dev.deputy.broker.tenant.Tenant;
import io.micronaut.core.annotation.Order;
import jakarta.inject.Singleton;

import java.util.Optional;
import java.util.Set;

/**
 * Authenticates registered OAuth clients (MCP client apps): public clients ({@code none}; PKCE is what
 * protects their code, OAuth 2.1 §2.1) and confidential ones with {@code client_secret_basic} /
 * {@code client_secret_post} against the stored hash. A client must use the method it registered
 * (RFC 7591 §2 {@code token_endpoint_auth_method}). Empty for a client_id it does not know. Clients come from
 * {@link ClientLookup}: registered ones and Client ID Metadata Document URLs (public).
 *
 * <p>Asked after the agents' authenticator (agents are held in memory; registered clients are a database read).
 */
@Singleton
@Order(10)
public class RegisteredClientAuthenticator implements ClientAuthenticator {
    private final ClientLookup clients;

    public RegisteredClientAuthenticator(ClientLookup clients) {
        this.clients = clients;
    }

    /** What registered clients (config, admin API, DCR, CIMD) use: a secret (RFC 6749 §2.3.1) or none (public, PKCE). */
    @Override
    public Set<String> methods() {
        return Set.of("client_secret_basic", "client_secret_post", "none");
    }

    @Override
    public Optional<AuthenticatedClient> authenticate(Tenant tenant, String issuer, ClientAuthentication authentication,
                                                      ClientID publicClientId, HTTPRequest httpRequest) {
        String clientId = authentication != null ? authentication.getClientID().getValue()
                : publicClientId != null ? publicClientId.getValue() : null;
        if (clientId == null || clientId.length() > 255) {
            return Optional.empty();
        }
        Optional<OAuthClient> found = clients.find(tenant.id(), clientId);
        if (found.isEmpty()) {
            return Optional.empty();
        }
        OAuthClient c = found.get();
        String method = authentication == null ? "none" : authentication.getMethod().getValue();
        if (!method.equals(c.authMethod())) {
            // RFC 6749 §5.2 invalid_client: unsupported authentication method for this client
            throw new OAuthException(OAuth2Error.INVALID_CLIENT, "client must authenticate with " + c.authMethod());
        }
        if (!c.isPublic()) {
            String secret = authentication instanceof ClientSecretBasic b ? b.getClientSecret().getValue()
                    : authentication instanceof ClientSecretPost p ? p.getClientSecret().getValue() : null;
            if (!ClientSecrets.verify(secret, c.secretHash())) {
                throw new OAuthException(OAuth2Error.INVALID_CLIENT, "client authentication failed");
            }
        }
        return Optional.of(new AuthenticatedClient(c.clientId(), null, method, null, c.internal()));
    }
}
