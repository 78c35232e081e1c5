package dev.deputy.broker.audit;

import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jwt.JWTClaimsSet;

import java.util.Map;

/** Signs checkpoints with the tenant's key and tells which public keys the tenant publishes now. */
public interface CheckpointSigner {
    record Signed(String jws, String kid, String publicJwk) {
    }

    /** Whether this tenant has signing keys (the broker's own system tenant has none). */
    boolean canSign(String tenantId);

    Signed sign(String tenantId, JWTClaimsSet claims);

    /** The kid that signs now. */
    String activeKid(String tenantId);

    /** The tenant's JWKS as published now, by kid (the trust roots of online verification). */
    Map<String, JWK> published(String tenantId);
}
