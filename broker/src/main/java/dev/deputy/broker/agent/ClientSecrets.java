package dev.deputy.broker.agent;

import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * Client secrets at rest: only a salted PBKDF2-HMAC-SHA256 hash is stored
 * ({@code pbkdf2-sha256$<iterations>$<salt>$<hash>}); verification is constant-time. The iteration count is part of
 * each stored value, so values written with an older count (20,000 before issue 14) still verify; new values use
 * {@link #ITERATIONS}, and {@link #isCurrent} tells callers that can re-hash (config-managed clients) to do so.
 *
 * <p>600,000 iterations cost about half a second of CPU here; a client authenticating with its secret on every
 * token request would pay it each time, so a secret that verified once against a stored value is remembered in
 * memory as a SHA-256 of (stored value, secret), and the next check of the same pair is one digest.
 */
public final class ClientSecrets {
    /** OWASP Password Storage Cheat Sheet (2023): PBKDF2-HMAC-SHA256, 600,000 iterations. */
    public static final int ITERATIONS = 600_000;
    /** Stored values are ours, but a corrupted one must not pin a CPU for minutes. */
    private static final int MAX_ITERATIONS = 10_000_000;
    private static final int MAX_VERIFIED = 10_000;
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final java.util.Map<String, String> VERIFIED = new java.util.concurrent.ConcurrentHashMap<>();

    private ClientSecrets() {
    }

    public static String hash(String secret) {
        byte[] salt = new byte[16];
        RANDOM.nextBytes(salt);
        return "pbkdf2-sha256$" + ITERATIONS + "$" + b64(salt) + "$" + b64(derive(secret, salt, ITERATIONS));
    }

    public static boolean verify(String secret, String stored) {
        if (secret == null || stored == null) {
            return false;
        }
        String[] p = stored.split("\\$");
        if (p.length != 4 || !"pbkdf2-sha256".equals(p[0])) {
            return false;
        }
        String fast = sha256Hex(stored + '\u0000' + secret);
        String known = VERIFIED.get(stored);
        if (known != null && MessageDigest.isEqual(known.getBytes(StandardCharsets.US_ASCII),
                fast.getBytes(StandardCharsets.US_ASCII))) {
            return true;
        }
        try {
            int iterations = Integer.parseInt(p[1]);
            if (iterations < 1 || iterations > MAX_ITERATIONS) {
                return false;
            }
            byte[] salt = Base64.getUrlDecoder().decode(p[2]);
            byte[] expected = Base64.getUrlDecoder().decode(p[3]);
            boolean ok = MessageDigest.isEqual(expected, derive(secret, salt, iterations));
            if (ok) {
                if (VERIFIED.size() >= MAX_VERIFIED) {
                    VERIFIED.clear();
                }
                VERIFIED.put(stored, fast);
            }
            return ok;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /** Whether a stored value uses the current iteration count (else a caller that can should re-hash). */
    public static boolean isCurrent(String stored) {
        if (stored == null) {
            return false;
        }
        String[] p = stored.split("\\$");
        try {
            return p.length == 4 && "pbkdf2-sha256".equals(p[0]) && Integer.parseInt(p[1]) >= ITERATIONS;
        } catch (NumberFormatException e) {
            return false;
        }
    }

    private static byte[] derive(String secret, byte[] salt, int iterations) {
        try {
            PBEKeySpec spec = new PBEKeySpec(secret.toCharArray(), salt, iterations, 256);
            return SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256").generateSecret(spec).getEncoded();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("PBKDF2 unavailable", e);
        }
    }

    private static String b64(byte[] b) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }

    /** SHA-256, hex: for looking up opaque tokens and codes by digest. */
    public static String sha256Hex(String s) {
        try {
            return java.util.HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }
}
