package dev.deputy.broker.clientauth;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.crypto.Ed25519Verifier;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.nimbusds.oauth2.sdk.OAuth2Error;
import dev.deputy.broker.agent.AgentChanges;
import dev.deputy.broker.agent.AgentCredential;
import dev.deputy.broker.config.BrokerFile;
import dev.deputy.broker.config.TenantAssertionAudience;
import dev.deputy.broker.ephemeral.EphemeralStore;
import dev.deputy.broker.ephemeral.OneTimeMarks;
import dev.deputy.broker.keys.CryptoProvider;
import dev.deputy.broker.oauth.AgentDirectory;
import dev.deputy.broker.oauth.Endpoints;
import dev.deputy.broker.oauth.OAuthException;
import dev.deputy.broker.tenant.Tenants;
import jakarta.inject.Singleton;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.text.ParseException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * private_key_jwt (RFC 7523 §2.2 / §3, OpenID Connect Core §9): the assertion is verified with the agent's
 * registered keys (inline JWK Set or {@code jwks_uri}); {@code iss} = {@code sub} = client id; {@code aud} names
 * this authorization server; {@code exp} is required and close; {@code jti} is single-use across nodes.
 * Only asymmetric algorithms from an allow-list are accepted (never {@code none}, never HMAC).
 *
 * <p>Verifiers are built once per registered key (with the native provider) and dropped when the agent changes;
 * no verdict is cached: every assertion is verified.
 */
@Singleton
public class PrivateKeyJwtVerifier {
    /** The accepted assertion algorithms ({@code token_endpoint_auth_signing_alg_values_supported}). */
    public static final Set<JWSAlgorithm> ALLOWED = Set.of(JWSAlgorithm.ES256, JWSAlgorithm.ES384, JWSAlgorithm.RS256,
            JWSAlgorithm.PS256, JWSAlgorithm.EdDSA);
    static final long SKEW_SECONDS = 60;

    /** One registered public key ready to verify. */
    record KeyVerifier(String kid, JWSVerifier verifier, Set<JWSAlgorithm> algs) {
    }

    private record CachedKeys(String material, List<KeyVerifier> keys) {
    }

    private record FetchedKeys(long fetchedAt, List<KeyVerifier> keys) {
    }

    private final EphemeralStore ephemeral;
    private final JwksUriFetcher fetcher;
    private final Endpoints endpoints;
    private final BrokerFile.PrivateKeyJwt cfg;
    private TenantAssertionAudience assertionAudience;
    private final Map<String, CachedKeys> inline = new ConcurrentHashMap<>();
    private final Map<String, FetchedKeys> remote = new ConcurrentHashMap<>();

    /** Set once at start-up (setter injection keeps the constructor as it is). */
    @jakarta.inject.Inject
    void assertionAudience(TenantAssertionAudience assertionAudience) {
        this.assertionAudience = assertionAudience;
    }

    public PrivateKeyJwtVerifier(EphemeralStore ephemeral, JwksUriFetcher fetcher, Endpoints endpoints, Tenants tenants,
                                 AgentChanges changes) {
        this.ephemeral = ephemeral;
        this.fetcher = fetcher;
        this.endpoints = endpoints;
        this.cfg = tenants.tree().broker().privateKeyJwt();
        changes.listen((tenantId, agentId) -> {
            String prefix = tenantId + "/" + agentId + "/";
            inline.keySet().removeIf(k -> k.startsWith(prefix));
            remote.keySet().removeIf(k -> k.startsWith(prefix));
        });
    }

    public void verify(String tenantId, AgentDirectory.Entry entry, SignedJWT jwt) {
        verify(tenantId, entry, jwt, null);
    }

    /** @param marks how the {@code jti} is marked used (null: the ephemeral store's own mark) */
    public void verify(String tenantId, AgentDirectory.Entry entry, SignedJWT jwt, OneTimeMarks marks) {
        String clientId = entry.agent().id();
        JWSAlgorithm alg = jwt.getHeader().getAlgorithm();
        // RFC 8725 §3.1: an allow-list of algorithms; HMAC (a shared secret) and none never pass
        if (!ALLOWED.contains(alg)) {
            throw invalid("assertion algorithm not accepted");
        }
        // RFC 7515 §4.1.11: critical header parameters we do not understand
        if (jwt.getHeader().getCriticalParams() != null && !jwt.getHeader().getCriticalParams().isEmpty()) {
            throw invalid("assertion has critical header parameters");
        }
        long nowMs = System.currentTimeMillis();
        List<AgentCredential> creds = entry.credentials().stream()
                .filter(c -> c.kind() == AgentCredential.Kind.JWKS || c.kind() == AgentCredential.Kind.JWKS_URI)
                .filter(c -> c.usableAt(nowMs)).toList();
        if (creds.isEmpty()) {
            throw invalid("no usable key registered");
        }
        String kid = jwt.getHeader().getKeyID();
        boolean verified = false;
        boolean kidMissingRemotely = false;
        for (AgentCredential c : creds) {
            List<KeyVerifier> keys = keys(tenantId, c, false);
            if (verifies(jwt, keys, kid, alg)) {
                verified = true;
                break;
            }
            if (c.kind() == AgentCredential.Kind.JWKS_URI && kid != null
                    && keys.stream().noneMatch(k -> kid.equals(k.kid()))) {
                kidMissingRemotely = true;
            }
        }
        if (!verified && kidMissingRemotely) {
            for (AgentCredential c : creds) {
                if (c.kind() == AgentCredential.Kind.JWKS_URI && verifies(jwt, keys(tenantId, c, true), kid, alg)) {
                    verified = true;
                    break;
                }
            }
        }
        if (!verified) {
            throw invalid("assertion signature does not verify with the registered keys");
        }
        JWTClaimsSet claims;
        try {
            claims = jwt.getJWTClaimsSet();
        } catch (ParseException e) {
            throw invalid("assertion claims are malformed");
        }
        checkClaims(tenantId, clientId, claims, nowMs / 1000, marks);
    }

    private void checkClaims(String tenantId, String clientId, JWTClaimsSet claims, long now, OneTimeMarks marks) {
        // RFC 7523 §3 (1), (2): iss and sub are the client_id (RFC 7523 §2.2, OIDC Core §9)
        if (!clientId.equals(claims.getIssuer()) || !clientId.equals(claims.getSubject())) {
            throw invalid("assertion iss and sub must be the client_id");
        }
        // RFC 7523 §3 (3): aud identifies the authorization server. draft-ietf-oauth-rfc7523bis (the 2025 audience
        // injection): the issuer identifier, as the one value; endpoint URLs only where the tenant allows them
        List<String> aud = claims.getAudience();
        if (assertionAudience.endpointsAllowed(tenantId)) {
            Set<String> accepted = endpoints.audiences(tenantId);
            if (aud == null || aud.stream().noneMatch(accepted::contains)) {
                throw invalid("assertion aud does not name this authorization server");
            }
        } else if (aud == null || aud.size() != 1 || !endpoints.issuer(tenantId).equals(aud.get(0))) {
            throw invalid("assertion aud must be this authorization server's issuer identifier, alone");
        }
        // RFC 7523 §3 (4): exp REQUIRED and not in the past; bounded ahead so a stolen assertion dies soon
        Date exp = claims.getExpirationTime();
        if (exp == null) {
            throw invalid("assertion has no exp");
        }
        long expS = exp.toInstant().getEpochSecond();
        if (expS + SKEW_SECONDS <= now) {
            throw invalid("assertion expired");
        }
        if (expS > now + cfg.maxLifetime().toSeconds() + SKEW_SECONDS) {
            throw invalid("assertion exp is too far ahead (at most " + cfg.maxLifetime().toSeconds() + " s)");
        }
        // RFC 7523 §3 (5), (6): nbf / iat not in the future
        Date nbf = claims.getNotBeforeTime();
        if (nbf != null && nbf.toInstant().getEpochSecond() - SKEW_SECONDS > now) {
            throw invalid("assertion not yet valid");
        }
        Date iat = claims.getIssueTime();
        if (iat != null && iat.toInstant().getEpochSecond() - SKEW_SECONDS > now) {
            throw invalid("assertion issued in the future");
        }
        // RFC 7523 §3 (7): jti single use, on every node, until the assertion expires
        String jti = claims.getJWTID();
        if (jti == null || jti.isBlank() || jti.length() > 256) {
            throw invalid("assertion has no usable jti");
        }
        long ttl = Math.max(1, expS - now + SKEW_SECONDS);
        String mark = "pkjwt-jti:" + tenantId + ":" + clientId + ":" + sha256(jti);
        if (!(marks == null ? ephemeral.markUsed(mark, Duration.ofSeconds(ttl))
                : marks.markUsed(clientId, mark, Duration.ofSeconds(ttl)))) {
            throw invalid("assertion jti already used");
        }
    }

    private static boolean verifies(SignedJWT jwt, List<KeyVerifier> keys, String kid, JWSAlgorithm alg) {
        for (KeyVerifier k : keys) {
            if ((kid != null && !kid.equals(k.kid())) || !k.algs().contains(alg)) {
                continue;
            }
            try {
                if (jwt.verify(k.verifier())) {
                    return true;
                }
            } catch (JOSEException | IllegalStateException e) {
                // wrong key type for the signature: try the next key
            }
        }
        return false;
    }

    private List<KeyVerifier> keys(String tenantId, AgentCredential c, boolean refresh) {
        String cacheKey = tenantId + "/" + c.agentId() + "/" + c.id();
        if (c.kind() == AgentCredential.Kind.JWKS) {
            CachedKeys ck = inline.get(cacheKey);
            if (ck != null && ck.material().equals(c.material())) {
                return ck.keys();
            }
            List<KeyVerifier> keys;
            try {
                keys = build(JWKSet.parse(c.material()));
            } catch (ParseException e) {
                keys = List.of();
            }
            inline.put(cacheKey, new CachedKeys(c.material(), keys));
            return keys;
        }
        try {
            JWKSet set = refresh ? fetcher.refresh(c.material()) : fetcher.get(c.material());
            long fetchedAt = fetcher.fetchedAt(c.material());
            FetchedKeys fk = remote.get(cacheKey);
            if (fk != null && fk.fetchedAt() == fetchedAt) {
                return fk.keys();
            }
            List<KeyVerifier> keys = build(set);
            remote.put(cacheKey, new FetchedKeys(fetchedAt, keys));
            return keys;
        } catch (IOException | IllegalArgumentException e) {
            throw invalid("the registered jwks_uri cannot be used");
        }
    }

    /** Verifiers for the usable signature keys of a set (public, sig or unspecified use, accepted type and size). */
    static List<KeyVerifier> build(JWKSet set) {
        List<KeyVerifier> out = new ArrayList<>();
        for (JWK jwk : set.getKeys()) {
            if (jwk.getKeyUse() != null && !KeyUse.SIGNATURE.equals(jwk.getKeyUse())) {
                continue;
            }
            try {
                Set<JWSAlgorithm> algs = new LinkedHashSet<>();
                JWSVerifier v;
                switch (jwk.getKeyType().getValue()) {
                    case "EC" -> {
                        Curve crv = jwk.toECKey().getCurve();
                        if (Curve.P_256.equals(crv)) {
                            algs.add(JWSAlgorithm.ES256);
                        } else if (Curve.P_384.equals(crv)) {
                            algs.add(JWSAlgorithm.ES384);
                        } else {
                            continue;
                        }
                        v = new ECDSAVerifier(jwk.toECKey().toPublicJWK());
                    }
                    case "RSA" -> {
                        if (jwk.size() < 2048) {
                            continue;
                        }
                        algs.add(JWSAlgorithm.RS256);
                        algs.add(JWSAlgorithm.PS256);
                        v = new RSASSAVerifier(jwk.toRSAKey().toPublicJWK());
                    }
                    case "OKP" -> {
                        if (!Curve.Ed25519.equals(jwk.toOctetKeyPair().getCurve())) {
                            continue;
                        }
                        algs.add(JWSAlgorithm.EdDSA);
                        v = new Ed25519Verifier(jwk.toOctetKeyPair().toPublicJWK());
                    }
                    default -> {
                        continue; // "oct" (HMAC) keys are never accepted
                    }
                }
                if (jwk.getAlgorithm() != null) {
                    algs.removeIf(a -> !a.getName().equals(jwk.getAlgorithm().getName()));
                }
                if (CryptoProvider.get() != null && !(v instanceof Ed25519Verifier)) {
                    v.getJCAContext().setProvider(CryptoProvider.get());
                }
                if (!algs.isEmpty()) {
                    out.add(new KeyVerifier(jwk.getKeyID(), v, Set.copyOf(algs)));
                }
            } catch (JOSEException e) {
                // unusable key: skipped
            }
        }
        return List.copyOf(out);
    }

    static OAuthException invalid(String reason) {
        // RFC 7523 §3.2: a client assertion that is not valid is invalid_client
        return new OAuthException(OAuth2Error.INVALID_CLIENT, reason);
    }

    private static String sha256(String s) {
        try {
            return Base64.getUrlEncoder().withoutPadding().encodeToString(
                    MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
