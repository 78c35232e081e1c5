package dev.deputy.broker.grant.refresh;

import java.util.List;
import java.util.Optional;

/** Refresh tokens (port; implemented in storage). */
public interface RefreshTokenStore {
    void insert(RefreshToken token);

    Optional<RefreshToken> find(String tokenHash);

    /** Atomically ACTIVE → USED: true for exactly one caller (rotation is single use). */
    boolean markUsed(String tokenHash, long now);

    /** Marks every token of the family REVOKED and returns them all (for their access token ids). */
    List<RefreshToken> revokeFamily(String tenantId, String familyId);

    /** The user's ACTIVE (not yet rotated, not revoked) tokens that expire after {@code now}: one per live family. */
    List<RefreshToken> activeForUser(String tenantId, String userId, long now);
}
