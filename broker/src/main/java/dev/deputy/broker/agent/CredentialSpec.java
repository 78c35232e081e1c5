package dev.deputy.broker.agent;

import java.util.Map;

/**
 * A credential to register for an agent, exactly one of: an inline JWK Set (public keys), a
 * {@code jwks_uri}, or a PEM certificate to pin (self-signed).
 */
public record CredentialSpec(Map<String, Object> jwks, String jwksUri, String certificate) {
    public CredentialSpec {
        jwks = jwks == null ? null : Map.copyOf(jwks);
    }

    public static CredentialSpec ofJwks(Map<String, Object> jwks) {
        return new CredentialSpec(jwks, null, null);
    }

    public static CredentialSpec ofJwksUri(String uri) {
        return new CredentialSpec(null, uri, null);
    }

    public static CredentialSpec ofCertificate(String pem) {
        return new CredentialSpec(null, null, pem);
    }

    public boolean empty() {
        return jwks == null && jwksUri == null && certificate == null;
    }
}
