package dev.deputy.examples.banking;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import java.util.Date;
import java.util.UUID;

/** The bank's private_key_jwt client assertions (RFC 7523): ES256, {@code aud} = the issuer, single-use, 60 s. */
final class ClientAssertion {
    static final String TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

    private ClientAssertion() {
    }

    /** A fresh assertion for {@code clientId} at {@code issuer}. */
    static String fresh(String clientId, String issuer, ECDSASigner signer, String kid) throws Exception {
        long now = System.currentTimeMillis();
        JWTClaimsSet claims = new JWTClaimsSet.Builder().issuer(clientId).subject(clientId).audience(issuer)
                .issueTime(new Date(now)).expirationTime(new Date(now + 60_000)).jwtID(UUID.randomUUID().toString()).build();
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES256).type(JOSEObjectType.JWT).keyID(kid).build(), claims);
        jwt.sign(signer);
        return jwt.serialize();
    }
}
