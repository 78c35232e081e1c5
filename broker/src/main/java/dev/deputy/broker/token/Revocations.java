package dev.deputy.broker.token;

import dev.deputy.broker.ephemeral.EphemeralStore;
import jakarta.inject.Singleton;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;

/**
 * Revoked access tokens by {@code jti}, shared by every node through the ephemeral store, each kept until
 * the token would have expired anyway. Introspection (RFC 7662 §2.2 {@code active: false}) and the
 * revocation endpoint use the same set.
 */
@Singleton
public class Revocations {
    private final EphemeralStore store;
    private final Clock clock;

    public Revocations(EphemeralStore store) {
        this.store = store;
        this.clock = Clock.systemUTC();
    }

    public void revoke(String tenantId, String jti, Instant expiresAt) {
        if (jti == null) {
            return;
        }
        Duration ttl = expiresAt == null ? Duration.ofHours(1) : Duration.between(clock.instant(), expiresAt).plusSeconds(60);
        if (!ttl.isNegative() && !ttl.isZero()) {
            store.put(key(tenantId, jti), "1", ttl);
        }
    }

    public boolean isRevoked(String tenantId, String jti) {
        return jti != null && store.get(key(tenantId, jti)).isPresent();
    }

    private static String key(String tenantId, String jti) {
        return "revoked-jti:" + tenantId + ":" + jti;
    }
}
