package dev.deputy.broker.token;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.crypto.factories.DefaultJWSVerifierFactory;
import com.nimbusds.jose.jwk.AsymmetricJWK;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.OctetKeyPair;
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
import java.util.Date;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Verifies access tokens this broker issued (RFC 9068): {@code typ: at+jwt}, signed by one of the tenant's
 * published keys, {@code iss} = the tenant issuer, not expired. The signature check of a token is cached
 * by the token's hash until the token expires (the answer for a token never changes; expiry and
 * revocation are checked on every call by the caller / {@link #verify}).
 */
@Singleton
public class DeputyTokenVerifier {
    private static final int CACHE_LIMIT = 100_000;
    private static final long SKEW_MS = 30_000;

    private final SigningKeys keys;
    private final PublicUrl publicUrl;
    private final Clock clock;
    private final Map<String, Verified> cache = new ConcurrentHashMap<>();
    private final Map<String, JWSVerifier> verifiers = new ConcurrentHashMap<>();

    public DeputyTokenVerifier(SigningKeys keys, PublicUrl publicUrl) {
        this(keys, publicUrl, Clock.systemUTC());
    }

    DeputyTokenVerifier(SigningKeys keys, PublicUrl publicUrl, Clock clock) {
        this.keys = keys;
        this.publicUrl = publicUrl;
        this.clock = clock;
    }

    /** A verified token: its claims and its key id. */
    public record Verified(String tenantId, String kid, JWTClaimsSet claims) {
        public long expiresAtMs() {
            Date exp = claims.getExpirationTime();
            return exp == null ? 0 : exp.getTime();
        }
    }

    /** Why a token was refused; safe to show to the client. */
    public static final class Invalid extends Exception {
        public Invalid(String reason) {
            super(reason, null, false, false);
        }
    }

    public Verified verify(String tenantId, String token) throws Invalid {
        if (token == null || token.length() > 16_384) {
            throw new Invalid("token missing or too large");
        }
        long now = clock.millis();
        String key = tenantId + ":" + sha256(token);
        Verified cached = cache.get(key);
        if (cached != null) {
            if (cached.expiresAtMs() + SKEW_MS <= now) {
                cache.remove(key);
                throw new Invalid("token expired");
            }
            return cached;
        }
        Verified v = verifyUncached(tenantId, token, now);
        if (cache.size() >= CACHE_LIMIT) {
            cache.clear(); // simple bound; entries are cheap to recompute
        }
        cache.put(key, v);
        return v;
    }

    private Verified verifyUncached(String tenantId, String token, long now) throws Invalid {
        SignedJWT jwt;
        try {
            jwt = SignedJWT.parse(token);
        } catch (ParseException e) {
            throw new Invalid("not a signed JWT");
        }
        // RFC 9068 §4: typ MUST be at+jwt (application/at+jwt)
        if (jwt.getHeader().getType() == null || !(AccessTokens.AT_JWT.equals(jwt.getHeader().getType())
                || "application/at+jwt".equalsIgnoreCase(jwt.getHeader().getType().getType()))) {
            throw new Invalid("not an access token (typ)");
        }
        TenantKeys tk = keys.keys(tenantId);
        String kid = jwt.getHeader().getKeyID();
        JWK jwk = kid == null ? null : tk.publicByKid().get(kid);
        if (jwk == null) {
            throw new Invalid("unknown signing key");
        }
        // the key's own alg pins the algorithm: no alg confusion, no none
        if (jwk.getAlgorithm() == null || !jwk.getAlgorithm().getName().equals(jwt.getHeader().getAlgorithm().getName())) {
            throw new Invalid("algorithm does not match the key");
        }
        try {
            if (!jwt.verify(verifier(tenantId, kid, jwk, jwt))) {
                throw new Invalid("bad signature");
            }
        } catch (JOSEException e) {
            throw new Invalid("bad signature");
        }
        JWTClaimsSet claims;
        try {
            claims = jwt.getJWTClaimsSet();
        } catch (ParseException e) {
            throw new Invalid("malformed claims");
        }
        if (!publicUrl.issuer(tenantId).equals(claims.getIssuer())) {
            throw new Invalid("issued by another tenant or issuer");
        }
        if (claims.getExpirationTime() == null || claims.getExpirationTime().getTime() + SKEW_MS <= now) {
            throw new Invalid("token expired");
        }
        if (claims.getSubject() == null || claims.getJWTID() == null) {
            throw new Invalid("token lacks sub or jti");
        }
        return new Verified(tenantId, kid, claims);
    }

    private JWSVerifier verifier(String tenantId, String kid, JWK jwk, SignedJWT jwt) throws JOSEException {
        String k = tenantId + ":" + kid;
        JWSVerifier v = verifiers.get(k);
        if (v == null) {
            if (jwk instanceof OctetKeyPair okp) {
                v = new com.nimbusds.jose.crypto.Ed25519Verifier(okp.toPublicJWK());
            } else {
                v = new DefaultJWSVerifierFactory().createJWSVerifier(jwt.getHeader(), ((AsymmetricJWK) jwk).toPublicKey());
                if (CryptoProvider.get() != null) {
                    v.getJCAContext().setProvider(CryptoProvider.get());
                }
            }
            verifiers.put(k, v);
        }
        return v;
    }

    /** The verified claims if the token verifies, else empty. */
    public Optional<Verified> tryVerify(String tenantId, String token) {
        try {
            return Optional.of(verify(tenantId, token));
        } catch (Invalid e) {
            return Optional.empty();
        }
    }

    static String sha256(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
