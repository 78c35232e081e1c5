package dev.deputy.broker.config;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code tenants/<t>/agents/<id>.yml}: one agent managed by config.
 *
 * @param id              defaults to the file name without {@code .yml}
 * @param authMethod      tls_client_auth | self_signed_tls_client_auth | private_key_jwt
 * @param jwks            private_key_jwt: inline JWK Set, public keys only
 * @param jwksUri         private_key_jwt: where the agent publishes its keys (https)
 * @param certificate     self_signed_tls_client_auth: the PEM certificate to pin
 * @param rotationOverlap when the key or certificate in the file changes, how long the old one keeps working
 */
public record AgentFile(String id, String name, String owner, String environment, List<String> roles,
                        Map<String, Object> metadata, String authMethod, Map<String, Object> jwks, String jwksUri,
                        String certificate, Duration rotationOverlap) {
    static final Set<String> METHODS = Set.of("tls_client_auth", "self_signed_tls_client_auth", "private_key_jwt");

    public AgentFile {
        if (environment == null || environment.isBlank()) {
            throw new IllegalArgumentException("environment is required (e.g. production, staging, dev)");
        }
        if (authMethod == null || !METHODS.contains(authMethod)) {
            throw new IllegalArgumentException("auth_method must be one of tls_client_auth, self_signed_tls_client_auth, "
                    + "private_key_jwt" + (authMethod == null ? " (it is required)" : ", not '" + authMethod + "'"));
        }
        int creds = (jwks != null ? 1 : 0) + (jwksUri != null ? 1 : 0) + (certificate != null ? 1 : 0);
        if (creds > 1) {
            throw new IllegalArgumentException("give at most one of jwks, jwks_uri, certificate");
        }
        if (authMethod.equals("tls_client_auth") && creds > 0) {
            throw new IllegalArgumentException("tls_client_auth agents get certificates from the tenant's agent CA "
                    + "(deputy agent cert); remove jwks/jwks_uri/certificate");
        }
        if (authMethod.equals("private_key_jwt") && certificate != null) {
            throw new IllegalArgumentException("private_key_jwt agents take jwks or jwks_uri, not a certificate");
        }
        if (authMethod.equals("self_signed_tls_client_auth") && (jwks != null || jwksUri != null)) {
            throw new IllegalArgumentException("self_signed_tls_client_auth agents take a certificate, not keys");
        }
        roles = roles == null ? List.of() : List.copyOf(roles);
        metadata = metadata == null ? Map.of() : Map.copyOf(metadata);
    }
}
