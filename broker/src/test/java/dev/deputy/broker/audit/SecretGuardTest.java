package dev.deputy.broker.audit;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;

class SecretGuardTest {
    static final String JWT = "eyJhbGciOiJFUzI1NiIsInR5cCI6ImF0K2p3dCJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLWJ5dGVz";

    static AuditEvent.Builder ev() {
        return AuditEvent.of("demo", EventTypes.TOKEN_ISSUED, AuditEvent.Outcome.SUCCESS);
    }

    @Test
    void refusesSecretKeys() {
        for (String key : List.of("client_secret", "password", "assertion", "client_assertion", "access_token",
                "refresh_token", "id_token", "subject_token", "actor_token", "code_verifier", "private_key", "token",
                "Authorization", "secret")) {
            assertThrows(SecretGuard.UnsafeAuditContent.class, () -> ev().detail(key, "x").build(), key);
        }
    }

    @Test
    void refusesTokenShapedValuesAnywhere() {
        assertThrows(SecretGuard.UnsafeAuditContent.class, () -> ev().detail("note", JWT).build());
        assertThrows(SecretGuard.UnsafeAuditContent.class, () -> ev().detail("note", "Bearer " + JWT).build());
        assertThrows(SecretGuard.UnsafeAuditContent.class, () -> ev().detail("nested", Map.of("x", List.of(JWT))).build());
        assertThrows(SecretGuard.UnsafeAuditContent.class, () -> ev().detail("nested", Map.of("password", "hunter2")).build());
        assertThrows(SecretGuard.UnsafeAuditContent.class, () -> ev().subject(JWT, null).build());
        assertThrows(SecretGuard.UnsafeAuditContent.class, () -> ev().client(JWT).build());
        assertThrows(SecretGuard.UnsafeAuditContent.class,
                () -> ev().detail("key", "-----BEGIN PRIVATE KEY-----\nMIIB...").build());
        assertThrows(SecretGuard.UnsafeAuditContent.class,
                () -> ev().detail("x", "dpa_abcdefghijklmnopqrstuvwxyz012345").build());
        // a JWE (five segments)
        assertThrows(SecretGuard.UnsafeAuditContent.class,
                () -> ev().detail("x", "eyJhbGciOiJSU0EtT0FFUCJ9.aaaaaaaa.bbbbbbbb.cccccccc.dddddddd").build());
    }

    @Test
    void allowsIdentifiersDigestsAndReasons() {
        assertDoesNotThrow(() -> ev().subject("248289761001", "https://idp.example.com")
                .client("https://app.example.com/client.json").resource("https://mcp.example.com")
                .scopes("openid files:read").actors(List.of("agt_01J0ABCDEF", "agt_01J0XYZ"))
                .detail("token_jti", "5r1nEbYz0bqX2Wo4aR8c3A").detail("grant_type", "client_credentials")
                .detail("subject_token_type", "urn:ietf:params:oauth:token-type:access_token")
                .detail("error", "invalid_grant").detail("arguments_sha256", "a".repeat(64))
                .detail("kid", "Zx3YQ2Fm1aB7").detail("file", "/var/lib/deputy/admin-credentials.json")
                .detail("version", "1.2.3.4").build());
    }
}
