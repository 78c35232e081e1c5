package dev.deputy.broker.oauth;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jwt.SignedJWT;
import com.nimbusds.oauth2.sdk.auth.ClientAuthenticationMethod;
import com.nimbusds.oauth2.sdk.auth.JWTAuthentication;

/**
 * private_key_jwt with an EdDSA (Ed25519) assertion. Nimbus's {@code PrivateKeyJWT} accepts RSA and EC assertions
 * only, while RFC 7523 §2.2 allows any asymmetric JWS algorithm; this carries the EdDSA ones through the same
 * pipeline. The signature is verified like every other assertion (clientauth).
 */
public final class EdDsaPrivateKeyJwt extends JWTAuthentication {
    public EdDsaPrivateKeyJwt(SignedJWT assertion) {
        super(ClientAuthenticationMethod.PRIVATE_KEY_JWT, assertion);
        if (!JWSAlgorithm.Family.ED.contains(assertion.getHeader().getAlgorithm())) {
            throw new IllegalArgumentException("not an EdDSA assertion");
        }
    }
}
