package dev.deputy.broker.grant.refresh;

import dev.deputy.broker.agent.ClientSecrets;
import dev.deputy.broker.federation.Sessions;
import dev.deputy.broker.token.Revocations;
import io.micronaut.context.annotation.Value;
import jakarta.inject.Singleton;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * Issues refresh tokens (opaque: {@code drt_} + 256 random bits, stored as SHA-256) and revokes families.
 * Lifetime: {@code deputy.refresh-token.ttl} (env {@code DEPUTY_REFRESH_TOKEN_TTL}, default 24h), counted
 * from each rotation.
 */
@Singleton
public class RefreshTokens {
    private final RefreshTokenStore store;
    private final Revocations revocations;
    private final Duration ttl;

    public RefreshTokens(RefreshTokenStore store, Revocations revocations,
                         @Value("${deputy.refresh-token.ttl:24h}") Duration ttl) {
        this.store = store;
        this.revocations = revocations;
        this.ttl = ttl;
    }

    public Duration ttl() {
        return ttl;
    }

    /** A new refresh token of the family; {@code actor} is the agent its access tokens name as {@code act.sub}. */
    public String issue(String tenantId, String familyId, String clientId, String userId, String resource,
                        List<String> scopes, String actor, String accessJti, Instant accessExp, long now) {
        String value = "drt_" + Sessions.random();
        store.insert(new RefreshToken(ClientSecrets.sha256Hex(value), tenantId, familyId, clientId, userId, resource, scopes,
                accessJti, accessExp == null ? null : accessExp.toEpochMilli(), RefreshToken.Status.ACTIVE, now,
                now + ttl.toMillis(), null, actor));
        return value;
    }

    /** Revokes every refresh token of the family and every access token they came with; returns how many. */
    public int revokeFamily(String tenantId, String familyId) {
        if (familyId == null) {
            return 0;
        }
        List<RefreshToken> all = store.revokeFamily(tenantId, familyId);
        for (RefreshToken t : all) {
            if (t.accessJti() != null) {
                revocations.revoke(tenantId, t.accessJti(),
                        t.accessExpiresAt() == null ? null : Instant.ofEpochMilli(t.accessExpiresAt()));
            }
        }
        return all.size();
    }

    /** The user's live families (one ACTIVE token each), newest first. */
    public List<RefreshToken> liveFamilies(String tenantId, String userId, long now) {
        return store.activeForUser(tenantId, userId, now);
    }

    /**
     * Revokes every live family of the user at this client (and resource, when not null), with their access tokens
     * (the revocation fans out to every node); returns how many families.
     */
    public int revokeFamilies(String tenantId, String userId, String clientId, String resource, long now) {
        int n = 0;
        for (String family : store.activeForUser(tenantId, userId, now).stream()
                .filter(t -> t.clientId().equals(clientId) && (resource == null || resource.equals(t.resource())))
                .map(RefreshToken::familyId).distinct().toList()) {
            revokeFamily(tenantId, family);
            n++;
        }
        return n;
    }
}
