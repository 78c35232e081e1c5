package dev.deputy.broker.keys;

import org.bouncycastle.crypto.digests.SHA256Digest;
import org.bouncycastle.crypto.generators.HKDFBytesGenerator;
import org.bouncycastle.crypto.params.HKDFParameters;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Authenticates stored rows that grant authority (signing keys, credentials, clients, connectors, ...) with the
 * master key, so that a row written by someone without it (a DBA, an SQL injection) is never trusted.
 *
 * <p>One sub-key per purpose (the table): {@code K = HKDF-SHA256(ikm = master key, salt = "deputy row integrity",
 * info = "deputy/row-mac/v1/" + purpose, L = 32)} (RFC 5869). The MAC is
 * {@code "v1." + base64url(HMAC-SHA256(K, encode(fields)))} where {@code encode} is the canonical encoding: the ASCII
 * bytes {@code deputy-row-v1}, then per field either one byte {@code 0x00} (SQL NULL) or {@code 0x01}, a 4-byte
 * big-endian length and the UTF-8 bytes of the value (numbers in decimal, booleans as {@code true}/{@code false}).
 * Length prefixes make the encoding injective: no two different rows encode alike, whatever their bytes.
 */
public final class RowSeal {
    public static final String VERSION = "v1.";
    private static final byte[] DOMAIN = "deputy-row-v1".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] SALT = "deputy row integrity".getBytes(StandardCharsets.US_ASCII);
    private final byte[] master;
    private final Map<String, SecretKeySpec> subKeys = new ConcurrentHashMap<>();

    public RowSeal(byte[] masterKey) {
        if (masterKey.length != 32) {
            throw new IllegalArgumentException("master key must be 32 bytes");
        }
        this.master = masterKey.clone();
    }

    /** The MAC of a row of {@code purpose} whose authority-bearing fields are {@code fields}, in a fixed order. */
    public String mac(String purpose, List<?> fields) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(subKeys.computeIfAbsent(purpose, this::derive));
            return VERSION + Base64.getUrlEncoder().withoutPadding().encodeToString(mac.doFinal(encode(fields)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HMAC-SHA256 unavailable", e);
        }
    }

    /** Constant-time check of a stored MAC; false for a missing one. */
    public boolean verify(String purpose, String stored, List<?> fields) {
        if (stored == null || !stored.startsWith(VERSION)) {
            return false;
        }
        return MessageDigest.isEqual(stored.getBytes(StandardCharsets.US_ASCII),
                mac(purpose, fields).getBytes(StandardCharsets.US_ASCII));
    }

    private SecretKeySpec derive(String purpose) {
        HKDFBytesGenerator hkdf = new HKDFBytesGenerator(new SHA256Digest());
        hkdf.init(new HKDFParameters(master, SALT, ("deputy/row-mac/v1/" + purpose).getBytes(StandardCharsets.UTF_8)));
        byte[] k = new byte[32];
        hkdf.generateBytes(k, 0, k.length);
        return new SecretKeySpec(k, "HmacSHA256");
    }

    /** The canonical encoding (public for the documentation's test vectors and for independent verifiers). */
    public static byte[] encode(List<?> fields) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(256);
        out.writeBytes(DOMAIN);
        for (Object f : fields) {
            if (f == null) {
                out.write(0);
                continue;
            }
            byte[] b = (f instanceof byte[] raw ? raw : String.valueOf(f).getBytes(StandardCharsets.UTF_8));
            out.write(1);
            out.writeBytes(ByteBuffer.allocate(4).putInt(b.length).array());
            out.writeBytes(b);
        }
        return out.toByteArray();
    }
}
