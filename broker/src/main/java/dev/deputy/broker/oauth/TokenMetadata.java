package dev.deputy.broker.oauth;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.oauth2.sdk.GrantType;
import com.nimbusds.oauth2.sdk.as.AuthorizationServerEndpointMetadata;
import com.nimbusds.oauth2.sdk.as.AuthorizationServerMetadata;
import com.nimbusds.oauth2.sdk.auth.ClientAuthenticationMethod;
import dev.deputy.broker.metadata.MetadataContributor;
import dev.deputy.broker.tenant.Tenant;
import jakarta.inject.Singleton;

import java.net.URI;
import java.util.List;
import java.util.TreeSet;

/**
 * The token pipeline's part of the RFC 8414 metadata: endpoints, the grant types that have a handler, the client
 * authentication methods and assertion algorithms the authenticators implement, and the mTLS endpoint aliases
 * (RFC 8705 §5) with certificate-bound access tokens (§3).
 */
@Singleton
class TokenMetadata implements MetadataContributor {
    private final TokenEndpoint tokenEndpoint;
    private final ClientAuthPipeline clientAuth;
    private final Endpoints endpoints;

    TokenMetadata(TokenEndpoint tokenEndpoint, ClientAuthPipeline clientAuth, Endpoints endpoints) {
        this.tokenEndpoint = tokenEndpoint;
        this.clientAuth = clientAuth;
        this.endpoints = endpoints;
    }

    @Override
    public void contribute(Tenant tenant, String issuer, AuthorizationServerMetadata md) {
        md.setTokenEndpointURI(URI.create(endpoints.token(tenant.id())));
        md.setIntrospectionEndpointURI(URI.create(endpoints.introspection(tenant.id())));
        md.setRevocationEndpointURI(URI.create(endpoints.revocation(tenant.id())));
        md.setGrantTypes(tokenEndpoint.grantTypes().stream().map(GrantType::new).toList());
        TreeSet<String> methods = new TreeSet<>();
        TreeSet<String> algs = new TreeSet<>();
        for (ClientAuthenticator a : clientAuth.authenticators()) {
            methods.addAll(a.methods());
            algs.addAll(a.signingAlgs());
        }
        List<ClientAuthenticationMethod> m = methods.stream().map(ClientAuthenticationMethod::parse).toList();
        List<JWSAlgorithm> a = algs.stream().map(JWSAlgorithm::parse).toList();
        md.setTokenEndpointAuthMethods(m);
        // RFC 7662 §2.1 / RFC 7009 §2.1: introspection and revocation callers authenticate; public clients (none) are
        // refused there, so it is not listed for them (RFC 8414 §2: *_endpoint_auth_methods_supported)
        List<ClientAuthenticationMethod> authenticated = m.stream().filter(x -> !ClientAuthenticationMethod.NONE.equals(x)).toList();
        md.setIntrospectionEndpointAuthMethods(authenticated);
        md.setRevocationEndpointAuthMethods(authenticated);
        if (!a.isEmpty()) {
            md.setTokenEndpointJWSAlgs(a);
            md.setIntrospectionEndpointJWSAlgs(a);
            md.setRevocationEndpointJWSAlgs(a);
        }
        endpoints.mtlsIssuer(tenant.id()).ifPresent(mtls -> {
            // RFC 8705 §5: the endpoints on the listener that asks for client certificates
            AuthorizationServerEndpointMetadata aliases = new AuthorizationServerEndpointMetadata();
            aliases.setTokenEndpointURI(URI.create(mtls + "/token"));
            aliases.setIntrospectionEndpointURI(URI.create(mtls + "/introspect"));
            aliases.setRevocationEndpointURI(URI.create(mtls + "/revoke"));
            md.setMtlsEndpointAliases(aliases);
            // RFC 8705 §3.3
            md.setSupportsTLSClientCertificateBoundAccessTokens(true);
        });
    }
}
