package dev.deputy.broker.token;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.crypto.Ed25519Verifier;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.deputy.broker.config.PublicUrl;
import dev.deputy.broker.keys.CryptoProvider;
import dev.deputy.broker.keys.SigningKeys;
import dev.deputy.broker.keys.TenantKeys;
import jakarta.inject.Singleton;

import java.text.ParseException;
import java.time.Clock;
import java.util.Date;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Validates Deputy's own access tokens for a tenant (RFC 9068 §4): {@code typ: at+jwt}, a signature by one of the
 * tenant's published keys ({@code kid}), the tenant's issuer and {@code tenant} claim, not expired. Verifiers are
 * built once per key and reused.
 */
@Singleton
public class AccessTokenValidator {
    static final int MAX_TOKEN_LENGTH = 8192;
    private static final long SKEW_SECONDS = 5;

    /** Why a token is not valid (introspection answers {@code active:false} for each, and audits the reason). */
    public enum Invalid { MALFORMED, WRONG_TYPE, UNKNOWN_KEY, BAD_SIGNATURE, WRONG_ISSUER, OTHER_TENANT, EXPIRED, NOT_YET_VALID }

    /** Either verified claims or the reason they are not. */
    public record Result(JWTClaimsSet claims, Invalid invalid) {
        public boolean valid() {
            return claims != null;
        }
    }

    private record CachedVerifier(JWK jwk, JWSVerifier verifier) {
    }

    private final SigningKeys keys;
    private final PublicUrl publicUrl;
    private final Clock clock;
    private final Map<String, CachedVerifier> verifiers = new ConcurrentHashMap<>();

    public AccessTokenValidator(SigningKeys keys, PublicUrl publicUrl) {
        this(keys, publicUrl, Clock.systemUTC());
    }

    AccessTokenValidator(SigningKeys keys, PublicUrl publicUrl, Clock clock) {
        this.keys = keys;
        this.publicUrl = publicUrl;
        this.clock = clock;
    }

    public Result validate(String tenantId, String token) {
        if (token == null || token.length() > MAX_TOKEN_LENGTH || token.chars().filter(c -> c == '.').count() != 2) {
            return new Result(null, Invalid.MALFORMED);
        }
        SignedJWT jwt;
        JWTClaimsSet claims;
        try {
            jwt = SignedJWT.parse(token);
            claims = jwt.getJWTClaimsSet();
        } catch (ParseException e) {
            return new Result(null, Invalid.MALFORMED);
        }
        // RFC 9068 §4: the typ header must be at+jwt
        if (!AccessTokens.AT_JWT.equals(jwt.getHeader().getType())) {
            return new Result(null, Invalid.WRONG_TYPE);
        }
        // a token of another tenant names another issuer; say so before looking for its key
        String issuer = publicUrl.issuer(tenantId);
        if (claims.getIssuer() != null && claims.getIssuer().startsWith(publicUrl.base() + "/t/")
                && !issuer.equals(claims.getIssuer())) {
            return new Result(null, Invalid.OTHER_TENANT);
        }
        String kid = jwt.getHeader().getKeyID();
        TenantKeys tk = keys.keys(tenantId);
        JWK jwk = kid == null ? null : tk.publicByKid().get(kid);
        if (jwk == null) {
            return new Result(null, Invalid.UNKNOWN_KEY);
        }
        JWSVerifier verifier = verifier(tenantId, kid, jwk);
        // the alg must be the key's own (no algorithm substitution)
        if (verifier == null || (jwk.getAlgorithm() != null && !jwk.getAlgorithm().equals(jwt.getHeader().getAlgorithm()))
                || !verifier.supportedJWSAlgorithms().contains(jwt.getHeader().getAlgorithm())) {
            return new Result(null, Invalid.BAD_SIGNATURE);
        }
        try {
            if (!jwt.verify(verifier)) {
                return new Result(null, Invalid.BAD_SIGNATURE);
            }
        } catch (JOSEException e) {
            return new Result(null, Invalid.BAD_SIGNATURE);
        }
        if (!issuer.equals(claims.getIssuer())) {
            return new Result(null, Invalid.WRONG_ISSUER);
        }
        Object tenantClaim = claims.getClaim("tenant");
        if (tenantClaim != null && !tenantId.equals(tenantClaim)) {
            return new Result(null, Invalid.OTHER_TENANT);
        }
        long now = clock.instant().getEpochSecond();
        Date exp = claims.getExpirationTime();
        if (exp == null || exp.toInstant().getEpochSecond() + SKEW_SECONDS <= now) {
            return new Result(null, Invalid.EXPIRED);
        }
        Date nbf = claims.getNotBeforeTime();
        if (nbf != null && nbf.toInstant().getEpochSecond() - SKEW_SECONDS > now) {
            return new Result(null, Invalid.NOT_YET_VALID);
        }
        return new Result(claims, null);
    }

    private JWSVerifier verifier(String tenantId, String kid, JWK jwk) {
        String key = tenantId + "/" + kid;
        CachedVerifier c = verifiers.get(key);
        if (c != null && c.jwk() == jwk) {
            return c.verifier();
        }
        JWSVerifier v = build(jwk);
        if (v != null) {
            verifiers.put(key, new CachedVerifier(jwk, v));
        }
        return v;
    }

    static JWSVerifier build(JWK jwk) {
        try {
            JWSVerifier v = switch (jwk.getKeyType().getValue()) {
                case "EC" -> new ECDSAVerifier(jwk.toECKey());
                case "RSA" -> new RSASSAVerifier(jwk.toRSAKey());
                case "OKP" -> new Ed25519Verifier(jwk.toOctetKeyPair());
                default -> null;
            };
            if (v != null && CryptoProvider.get() != null && !(v instanceof Ed25519Verifier)) {
                v.getJCAContext().setProvider(CryptoProvider.get());
            }
            return v;
        } catch (JOSEException e) {
            return null;
        }
    }
}
