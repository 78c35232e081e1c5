package dev.deputy.broker.keys;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;

import java.util.Map;

/**
 * A tenant's keys as held in memory: the signer of the active key (built once), the public JWKS document
 * (serialised once) and the public keys by kid for local validation. Immutable; replaced on change.
 */
public record TenantKeys(String tenantId, String activeKid, JWSAlgorithm alg, JWSSigner signer, JWKSet publicJwks,
                         String jwksJson, Map<String, JWK> publicByKid) {
}
