package dev.deputy.broker.audit;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.crypto.Ed25519Verifier;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;

import java.text.ParseException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Verifies checkpoint signatures with no database: trust starts from a JWKS (the tenant's published keys),
 * and extends to older keys by endorsement. Every checkpoint lists, in its signed {@code keys} claim, the
 * RFC 7638 thumbprints of all keys the tenant published when it was made; a key that has left the JWKS is
 * trusted when a checkpoint signed by an already trusted key lists its thumbprint. The checkpointer signs a
 * checkpoint whenever the active key changes, while the retired key is still published, so the endorsement
 * chain reaches back across rotations. Keys shipped in an export are candidates only, never roots.
 */
public final class CheckpointVerifier {
    public static final JOSEObjectType TYP = new JOSEObjectType("deputy-audit-checkpoint+jwt");

    private CheckpointVerifier() {
    }

    /** Outcome: problems by checkpoint seq (empty when every checkpoint verified), and the trusted kids. */
    public record Result(Map<Long, String> problems, Set<String> trustedThumbprints, int verified) {
        public boolean ok() {
            return problems.isEmpty();
        }
    }

    public static Result verify(String tenantId, List<AuditCheckpoint> checkpoints, Collection<JWK> roots) {
        Map<String, JWK> candidates = new HashMap<>();    // thumbprint → key, from the checkpoints themselves
        Map<String, JWK> trusted = new HashMap<>();
        for (JWK k : roots) {
            trusted.put(thumbprint(k), k.toPublicJWK());
        }
        Map<Long, String> problems = new LinkedHashMap<>();
        Map<String, List<AuditCheckpoint>> byThumb = new HashMap<>();
        for (AuditCheckpoint c : checkpoints) {
            try {
                JWK k = JWK.parse(c.publicJwk());
                String t = thumbprint(k);
                candidates.put(t, k.toPublicJWK());
                byThumb.computeIfAbsent(t, x -> new ArrayList<>()).add(c);
            } catch (ParseException | RuntimeException e) {
                problems.put(c.seq(), "checkpoint " + c.seq() + " carries an unreadable public key");
            }
        }
        Set<String> done = new HashSet<>();
        List<String> work = new ArrayList<>(trusted.keySet());
        int verified = 0;
        while (!work.isEmpty()) {
            String t = work.remove(work.size() - 1);
            if (!done.add(t)) {
                continue;
            }
            for (AuditCheckpoint c : byThumb.getOrDefault(t, List.of())) {
                String problem = check(tenantId, c, trusted.get(t));
                if (problem != null) {
                    problems.put(c.seq(), problem);
                    continue;
                }
                verified++;
                for (String endorsed : endorsed(c)) {
                    JWK k = candidates.get(endorsed);
                    if (k != null && !trusted.containsKey(endorsed)) {
                        trusted.put(endorsed, k);
                        work.add(endorsed);
                    }
                }
            }
        }
        for (Map.Entry<String, List<AuditCheckpoint>> e : byThumb.entrySet()) {
            if (!trusted.containsKey(e.getKey())) {
                for (AuditCheckpoint c : e.getValue()) {
                    problems.putIfAbsent(c.seq(), "checkpoint " + c.seq() + " is signed by key " + c.kid()
                            + ", which is neither in the JWKS nor endorsed by a trusted checkpoint");
                }
            }
        }
        return new Result(problems, trusted.keySet(), verified);
    }

    /** Null when the checkpoint's JWS verifies with this key and says what the row says. */
    static String check(String tenantId, AuditCheckpoint c, JWK key) {
        try {
            SignedJWT jwt = SignedJWT.parse(c.jws());
            if (!TYP.equals(jwt.getHeader().getType())) {
                return "checkpoint " + c.seq() + " has the wrong JWS typ";
            }
            if (!jwt.verify(verifier(key))) {
                return "checkpoint " + c.seq() + ": signature does not verify (forged or altered)";
            }
            JWTClaimsSet claims = jwt.getJWTClaimsSet();
            Long seq = claims.getLongClaim("seq");
            if (!tenantId.equals(claims.getStringClaim("tenant")) || seq == null || seq != c.seq()
                    || !c.headHash().equals(claims.getStringClaim("head"))) {
                return "checkpoint " + c.seq() + ": stored tenant/seq/head differ from what was signed (altered)";
            }
            return null;
        } catch (ParseException | JOSEException | RuntimeException e) {
            return "checkpoint " + c.seq() + ": unreadable JWS (" + e.getMessage() + ")";
        }
    }

    @SuppressWarnings("unchecked")
    static List<String> endorsed(AuditCheckpoint c) {
        try {
            Object keys = SignedJWT.parse(c.jws()).getJWTClaimsSet().getClaim("keys");
            return keys instanceof List<?> l ? (List<String>) l : List.of();
        } catch (ParseException e) {
            return List.of();
        }
    }

    static JWSVerifier verifier(JWK key) throws JOSEException {
        return switch (key.getKeyType().getValue()) {
            case "EC" -> new ECDSAVerifier(key.toECKey());
            case "RSA" -> new RSASSAVerifier(key.toRSAKey());
            case "OKP" -> new Ed25519Verifier(key.toOctetKeyPair());
            default -> throw new JOSEException("unsupported key type " + key.getKeyType());
        };
    }

    public static String thumbprint(JWK k) {
        try {
            return k.computeThumbprint().toString();
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
    }
}
