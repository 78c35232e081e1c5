package dev.deputy.broker.audit;

import com.nimbusds.jwt.JWTClaimsSet;

import java.util.Optional;

/**
 * Whether a validly signed Deputy access token is still active (port; the token runtime implements it):
 * empty when it is, else the reason it is not ({@code revoked}, {@code agent_suspended}, {@code agent_revoked},
 * …). Tool-call reports consult it so that a call made under a revoked token is refused, not recorded.
 */
@FunctionalInterface
public interface TokenActivity {
    Optional<String> inactiveReason(String tenantId, JWTClaimsSet claims);
}
