package dev.deputy.broker.token;

import com.nimbusds.jwt.JWTClaimsSet;

import java.time.Instant;

/** A signed access token with the facts callers need for responses and audit. */
public record MintedToken(String token, String jti, Instant issuedAt, Instant expiresAt, JWTClaimsSet claims) {
    public long expiresIn() {
        return Math.max(0, expiresAt.getEpochSecond() - issuedAt.getEpochSecond());
    }
}
