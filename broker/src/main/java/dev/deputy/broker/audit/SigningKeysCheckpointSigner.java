package dev.deputy.broker.audit;

import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.deputy.broker.keys.SigningKeys;
import dev.deputy.broker.keys.TenantKeys;
import dev.deputy.broker.tenant.Tenants;
import jakarta.inject.Singleton;

import java.text.ParseException;
import java.util.Map;

/**
 * Checkpoints signed by the tenant's active signing key ({@link SigningKeys#sign}); the broker's own chain
 * ({@code _broker}) by the broker key, a signing key of its own kept like a tenant's (sealed at rest, rotated on the
 * broker's default schedule) and published at {@code GET /admin/t/_broker/audit/jwks}.
 */
@Singleton
class SigningKeysCheckpointSigner implements CheckpointSigner {
    private final SigningKeys keys;
    private final Tenants tenants;

    SigningKeysCheckpointSigner(SigningKeys keys, Tenants tenants) {
        this.keys = keys;
        this.tenants = tenants;
    }

    @Override
    public boolean canSign(String tenantId) {
        return tenants.find(tenantId).isPresent() || Tenants.BROKER_CHAIN.equals(tenantId);
    }

    @Override
    public Signed sign(String tenantId, JWTClaimsSet claims) {
        String jws = keys.sign(tenantId, CheckpointVerifier.TYP, claims);
        try {
            String kid = SignedJWT.parse(jws).getHeader().getKeyID();
            TenantKeys k = keys.keys(tenantId);
            JWK pub = k.publicByKid().get(kid);
            if (pub == null) {
                pub = keys.reload(tenantId).publicByKid().get(kid);
            }
            return new Signed(jws, kid, pub.toPublicJWK().toJSONString());
        } catch (ParseException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public String activeKid(String tenantId) {
        return keys.keys(tenantId).activeKid();
    }

    @Override
    public Map<String, JWK> published(String tenantId) {
        return canSign(tenantId) ? keys.keys(tenantId).publicByKid() : Map.of();
    }
}
