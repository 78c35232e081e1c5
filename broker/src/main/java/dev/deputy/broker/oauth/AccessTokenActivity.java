package dev.deputy.broker.oauth;

import com.nimbusds.jwt.JWTClaimsSet;
import dev.deputy.broker.audit.TokenActivity;
import dev.deputy.broker.token.Revocations;
import jakarta.inject.Singleton;

import java.util.Optional;

/**
 * The same activity rule as introspection (RFC 7662 §2.2) for a token whose signature is already checked: not
 * revoked (its {@code jti}, alone or through its refresh family), and every agent it names (subject and actors)
 * active.
 */
@Singleton
class AccessTokenActivity implements TokenActivity {
    private final Revocations revocations;
    private final AgentTokenState agents;

    AccessTokenActivity(Revocations revocations, AgentTokenState agents) {
        this.revocations = revocations;
        this.agents = agents;
    }

    @Override
    public Optional<String> inactiveReason(String tenantId, JWTClaimsSet claims) {
        if (claims.getJWTID() != null && revocations.isRevoked(tenantId, claims.getJWTID())) {
            return Optional.of("revoked");
        }
        return agents.problem(tenantId, claims);
    }
}
