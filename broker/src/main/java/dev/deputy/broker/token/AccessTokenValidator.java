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

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.text.ParseException;
import java.time.Clock;
import java.util.Base64;
import java.util.Date;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Validates Deputy's own access tokens for a tenant (RFC 9068 §4): {@code typ: at+jwt}, a signature by one of the
 * tenant's published keys ({@code kid}), the tenant's issuer and {@code tenant} claim, within {@code nbf}/{@code exp}.
 * The one validator of Deputy tokens: revocation uses it directly; introspection, token exchange, the actor token
 * of the code grant and tool-call reports through {@code oauth.DeputyTokens}, which adds the activity rule.
 *
 * <p>What depends only on the token's bytes and the key — the parse, the signature, the header and issuer checks —
 * is remembered per token (keyed by the tenant and the SHA-256 of the token) until the token expires, so a token
 * seen again skips the ECDSA verification and the JSON parsing. On every call, cached or not: the key that signed
 * it must still be published for the tenant (a retired key invalidates its tokens at once), and {@code exp} and
 * {@code nbf} are compared with the clock. Revocation and the agents' status are not part of this answer: callers
 * check them on every call ({@code oauth.DeputyTokens}). Only valid tokens are cached; the cache is
 * bounded ({@link #CACHE_LIMIT}: expired entries go first, then everything).
 */
@Singleton
public class AccessTokenValidator {
    static final int MAX_TOKEN_LENGTH = 16_384;
    static final int CACHE_LIMIT = 20_000; // ~1.5 KB of claims each: about 30 MB at most
    private static final long SKEW_SECONDS = 5;

    /** Why a token is not valid (introspection answers {@code active:false} for each, and audits the reason). */
    public enum Invalid { MALFORMED, WRONG_TYPE, UNKNOWN_KEY, BAD_SIGNATURE, WRONG_ISSUER, OTHER_TENANT, EXPIRED, NOT_YET_VALID }

    /** Either verified claims (and the key id that signed them) or the reason they are not. */
    public record Result(JWTClaimsSet claims, Invalid invalid, String kid) {
        public Result(JWTClaimsSet claims, Invalid invalid) {
            this(claims, invalid, null);
        }

        public boolean valid() {
            return claims != null;
        }
    }

    private record CachedVerifier(JWK jwk, JWSVerifier verifier) {
    }

    /** A token whose signature, header and issuer checked out with {@code jwk}; times are epoch seconds. */
    private record Verified(JWTClaimsSet claims, String kid, JWK jwk, long exp, Long nbf) {
    }

    private final SigningKeys keys;
    private final PublicUrl publicUrl;
    private final Clock clock;
    private final Map<String, CachedVerifier> verifiers = new ConcurrentHashMap<>();
    private final Map<String, Verified> verified = new ConcurrentHashMap<>();

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
        String cacheKey = tenantId + ":" + sha256(token);
        TenantKeys tk = keys.keys(tenantId);
        Verified v = verified.get(cacheKey);
        if (v != null && !stillPublished(tk, v)) {
            // the key was retired (or replaced) since: judge the token afresh
            verified.remove(cacheKey);
            v = null;
        }
        if (v == null) {
            Object r = verify(tenantId, token, tk);
            if (r instanceof Invalid invalid) {
                return new Result(null, invalid);
            }
            v = (Verified) r;
            remember(cacheKey, v);
        }
        long now = clock.instant().getEpochSecond();
        if (v.exp() + SKEW_SECONDS <= now) {
            verified.remove(cacheKey);
            return new Result(null, Invalid.EXPIRED);
        }
        if (v.nbf() != null && v.nbf() - SKEW_SECONDS > now) {
            return new Result(null, Invalid.NOT_YET_VALID);
        }
        return new Result(v.claims(), null, v.kid());
    }

    /** Number of tokens whose verification is remembered (tests). */
    int cachedTokens() {
        return verified.size();
    }

    private static boolean stillPublished(TenantKeys tk, Verified v) {
        JWK now = tk.publicByKid().get(v.kid());
        return now == v.jwk() || (now != null && now.equals(v.jwk()));
    }

    /** The checks that depend only on the token and the key: a {@link Verified} or an {@link Invalid}. */
    private Object verify(String tenantId, String token, TenantKeys tk) {
        SignedJWT jwt;
        JWTClaimsSet claims;
        try {
            jwt = SignedJWT.parse(token);
            claims = jwt.getJWTClaimsSet();
        } catch (ParseException e) {
            return Invalid.MALFORMED;
        }
        // RFC 9068 §4: the typ header must be at+jwt
        if (!AccessTokens.AT_JWT.equals(jwt.getHeader().getType())) {
            return Invalid.WRONG_TYPE;
        }
        // a token of another tenant names another issuer; say so before looking for its key
        String issuer = publicUrl.issuer(tenantId);
        if (claims.getIssuer() != null && claims.getIssuer().startsWith(publicUrl.base() + "/t/")
                && !issuer.equals(claims.getIssuer())) {
            return Invalid.OTHER_TENANT;
        }
        String kid = jwt.getHeader().getKeyID();
        JWK jwk = kid == null ? null : tk.publicByKid().get(kid);
        if (jwk == null) {
            return Invalid.UNKNOWN_KEY;
        }
        JWSVerifier verifier = verifier(tenantId, kid, jwk);
        // the alg must be the key's own (no algorithm substitution)
        if (verifier == null || (jwk.getAlgorithm() != null && !jwk.getAlgorithm().equals(jwt.getHeader().getAlgorithm()))
                || !verifier.supportedJWSAlgorithms().contains(jwt.getHeader().getAlgorithm())) {
            return Invalid.BAD_SIGNATURE;
        }
        try {
            if (!jwt.verify(verifier)) {
                return Invalid.BAD_SIGNATURE;
            }
        } catch (JOSEException e) {
            return Invalid.BAD_SIGNATURE;
        }
        if (!issuer.equals(claims.getIssuer())) {
            return Invalid.WRONG_ISSUER;
        }
        Object tenantClaim = claims.getClaim("tenant");
        if (tenantClaim != null && !tenantId.equals(tenantClaim)) {
            return Invalid.OTHER_TENANT;
        }
        Date exp = claims.getExpirationTime();
        if (exp == null) {
            return Invalid.EXPIRED;
        }
        Date nbf = claims.getNotBeforeTime();
        return new Verified(claims, kid, jwk, exp.toInstant().getEpochSecond(),
                nbf == null ? null : nbf.toInstant().getEpochSecond());
    }

    private void remember(String cacheKey, Verified v) {
        if (verified.size() >= CACHE_LIMIT) {
            long now = clock.instant().getEpochSecond();
            verified.values().removeIf(e -> e.exp() + SKEW_SECONDS <= now);
            if (verified.size() >= CACHE_LIMIT) {
                verified.clear(); // a simple bound: entries are cheap to recompute
            }
        }
        verified.put(cacheKey, v);
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

    static String sha256(String s) {
        try {
            return Base64.getUrlEncoder().withoutPadding()
                    .encodeToString(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
