package dev.deputy.broker.token;

import dev.deputy.broker.ephemeral.EphemeralStore;
import jakarta.annotation.PostConstruct;
import jakarta.inject.Singleton;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Revoked access tokens by {@code jti}, until they would have expired anyway. The shared ephemeral store holds
 * the truth (every node, nodes started later); pub/sub tells running nodes at once so that their local set
 * answers without a round trip.
 */
@Singleton
public class Revocations {
    static final String CHANNEL = "token-revocations";
    private final EphemeralStore ephemeral;
    /** tenant/jti → expiry (epoch seconds) of revocations this node has heard of. */
    private final Map<String, Long> local = new ConcurrentHashMap<>();

    public Revocations(EphemeralStore ephemeral) {
        this.ephemeral = ephemeral;
    }

    @PostConstruct
    void subscribe() {
        ephemeral.subscribe(CHANNEL, message -> {
            String[] parts = message.split(" ", 3);
            if (parts.length == 3) {
                try {
                    local.put(parts[0] + "/" + parts[1], Long.parseLong(parts[2]));
                } catch (NumberFormatException ignored) {
                    // not ours
                }
            }
        });
    }

    /** Revokes until {@code expiresAt} (an unknown expiry keeps it for an hour, beyond any access token's life). */
    public void revoke(String tenantId, String jti, Instant expiresAt) {
        if (jti == null) {
            return;
        }
        if (expiresAt == null) {
            expiresAt = Instant.now().plus(Duration.ofHours(1));
        }
        long ttl = Math.max(1, expiresAt.getEpochSecond() - Instant.now().getEpochSecond() + 5);
        ephemeral.put(key(tenantId, jti), "1", Duration.ofSeconds(ttl));
        local.put(tenantId + "/" + jti, expiresAt.getEpochSecond());
        ephemeral.publish(CHANNEL, tenantId + " " + jti + " " + expiresAt.getEpochSecond());
        prune();
    }

    public boolean isRevoked(String tenantId, String jti) {
        if (jti == null) {
            return false;
        }
        if (local.containsKey(tenantId + "/" + jti)) {
            return true;
        }
        return ephemeral.get(key(tenantId, jti)).isPresent();
    }

    private void prune() {
        if (local.size() > 10_000) {
            long now = Instant.now().getEpochSecond();
            local.values().removeIf(exp -> exp < now);
        }
    }

    private static String key(String tenantId, String jti) {
        return "revoked-jti:" + tenantId + ":" + jti;
    }
}
