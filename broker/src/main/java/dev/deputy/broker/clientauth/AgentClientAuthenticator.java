package dev.deputy.broker.clientauth;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.oauth2.sdk.OAuth2Error;
import com.nimbusds.oauth2.sdk.auth.ClientAuthentication;
import com.nimbusds.oauth2.sdk.auth.ClientSecretJWT;
import com.nimbusds.oauth2.sdk.auth.JWTAuthentication;
import com.nimbusds.oauth2.sdk.auth.SelfSignedTLSClientAuthentication;
import com.nimbusds.oauth2.sdk.auth.TLSClientAuthentication;
import com.nimbusds.oauth2.sdk.http.HTTPRequest;
import com.nimbusds.oauth2.sdk.id.ClientID;
import dev.deputy.broker.agent.Agent;
import dev.deputy.broker.oauth.AgentDirectory;
import dev.deputy.broker.oauth.AuthenticatedClient;
import dev.deputy.broker.oauth.ClientAuthenticator;
import dev.deputy.broker.oauth.OAuthException;
import dev.deputy.broker.tenant.Tenant;
import io.micronaut.core.annotation.Order;
import jakarta.inject.Singleton;

import java.security.cert.X509Certificate;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Agents as OAuth clients: the agent id is the {@code client_id}. The agent must exist in the tenant (otherwise
 * this authenticator passes), be active, and authenticate with the one method it is registered for
 * ({@link Agent#authMethod()}); anything else is {@code invalid_client} (RFC 6749 §5.2).
 */
@Singleton
@Order(0)
public class AgentClientAuthenticator implements ClientAuthenticator {
    private final AgentDirectory directory;
    private final PrivateKeyJwtVerifier jwtVerifier;
    private final CertificateVerifier certificates;

    public AgentClientAuthenticator(AgentDirectory directory, PrivateKeyJwtVerifier jwtVerifier,
                                    CertificateVerifier certificates) {
        this.directory = directory;
        this.jwtVerifier = jwtVerifier;
        this.certificates = certificates;
    }

    @Override
    public Set<String> methods() {
        return Set.of(Agent.AuthMethod.TLS_CLIENT_AUTH.wire(), Agent.AuthMethod.SELF_SIGNED_TLS_CLIENT_AUTH.wire(),
                Agent.AuthMethod.PRIVATE_KEY_JWT.wire());
    }

    @Override
    public Set<String> signingAlgs() {
        return PrivateKeyJwtVerifier.ALLOWED.stream().map(JWSAlgorithm::getName).collect(Collectors.toSet());
    }

    @Override
    public Optional<AuthenticatedClient> authenticate(Tenant tenant, String issuer, ClientAuthentication auth,
                                                      ClientID publicClientId, HTTPRequest httpRequest) {
        return authenticate(tenant, issuer, auth, publicClientId, httpRequest, null);
    }

    @Override
    public Optional<AuthenticatedClient> authenticate(Tenant tenant, String issuer, ClientAuthentication auth,
                                                      ClientID publicClientId, HTTPRequest httpRequest,
                                                      dev.deputy.broker.ephemeral.OneTimeMarks marks) {
        ClientID id = auth != null ? auth.getClientID() : publicClientId;
        if (id == null) {
            return Optional.empty();
        }
        Optional<AgentDirectory.Entry> found = directory.find(tenant.id(), id.getValue());
        if (found.isEmpty()) {
            return Optional.empty();
        }
        AgentDirectory.Entry entry = found.get();
        Agent agent = entry.agent();
        if (!agent.active()) {
            throw invalid("agent is " + agent.status().wire());
        }
        Agent.AuthMethod registered = agent.authMethod();
        String thumbprint = null;
        switch (auth) {
            case null -> throw invalid("agents authenticate with " + registered.wire());
            case ClientSecretJWT ignored -> {
                // RFC 8725 §2.1: an HMAC "assertion" keyed with a public key is the classic confusion attack
                requireMethod(registered, Agent.AuthMethod.PRIVATE_KEY_JWT);
                throw invalid("assertion algorithm not accepted");
            }
            case JWTAuthentication pkj -> {
                // PrivateKeyJWT (RSA/EC) or EdDsaPrivateKeyJwt: RFC 7523 §2.2
                requireMethod(registered, Agent.AuthMethod.PRIVATE_KEY_JWT);
                jwtVerifier.verify(tenant.id(), entry, pkj.getClientAssertion(), marks);
            }
            case SelfSignedTLSClientAuthentication tls ->
                    thumbprint = mtls(tenant, entry, registered, tls.getClientX509Certificate());
            case TLSClientAuthentication tls -> thumbprint = mtls(tenant, entry, registered, tls.getClientX509Certificate());
            default -> throw invalid("agents authenticate with " + registered.wire() + ", not "
                    + auth.getMethod().getValue());
        }
        return Optional.of(new AuthenticatedClient(agent.id(), agent.id(), registered.wire(), thumbprint, true));
    }

    private String mtls(Tenant tenant, AgentDirectory.Entry entry, Agent.AuthMethod registered, X509Certificate cert) {
        if (cert == null) {
            throw invalid("no client certificate");
        }
        return switch (registered) {
            case TLS_CLIENT_AUTH -> certificates.verifyCaIssued(tenant.id(), entry, cert);
            case SELF_SIGNED_TLS_CLIENT_AUTH -> certificates.verifyPinned(entry, cert);
            default -> throw invalid("agents authenticate with " + registered.wire() + ", not a client certificate");
        };
    }

    private static void requireMethod(Agent.AuthMethod registered, Agent.AuthMethod used) {
        if (registered != used) {
            throw invalid("agents authenticate with " + registered.wire() + ", not " + used.wire());
        }
    }

    static OAuthException invalid(String reason) {
        return new OAuthException(OAuth2Error.INVALID_CLIENT, reason);
    }
}
