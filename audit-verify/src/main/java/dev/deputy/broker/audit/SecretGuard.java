package dev.deputy.broker.audit;

import java.util.Collection;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Refuses audit content that looks like a credential: a JWT/JWS/JWE (three or five base64url segments), a
 * PEM private key, a Deputy admin bearer token, or a details key that names a secret ({@code client_secret},
 * {@code password}, {@code assertion}, {@code *_token}, ...). The audit trail is read by many people and kept
 * for years: identifiers, digests and reasons only.
 */
public final class SecretGuard {
    private SecretGuard() {
    }

    /** Thrown by {@link AuditEvent} when a field or detail would leak a credential. */
    public static final class UnsafeAuditContent extends IllegalArgumentException {
        public UnsafeAuditContent(String message) {
            super(message);
        }
    }

    // header.payload.signature (JWS) or five segments (JWE); base64url "eyJ" = '{"'
    private static final Pattern JWT = Pattern.compile(
            "eyJ[A-Za-z0-9_-]{4,}\\.[A-Za-z0-9_-]*\\.[A-Za-z0-9_-]*(\\.[A-Za-z0-9_-]*\\.[A-Za-z0-9_-]*)?");
    private static final Pattern THREE_SEGMENTS = Pattern.compile(
            "^[A-Za-z0-9_-]{8,}\\.[A-Za-z0-9_-]{8,}\\.[A-Za-z0-9_-]{8,}$");
    private static final Pattern PEM_PRIVATE = Pattern.compile("-----BEGIN [A-Z ]*PRIVATE KEY-----");
    private static final Pattern ADMIN_TOKEN = Pattern.compile("\\bdpa_[A-Za-z0-9_-]{20,}");
    private static final Pattern SECRET_KEY = Pattern.compile(
            "(secret|password|passwd|passphrase|assertion|private_?key|credential_value|code_verifier|"
                    + "^authorization$|^cookie$|bearer|(^|_)token$|^token_value$|^jwt$|^id_token|^access_token|^refresh_token)");
    private static final int MAX_DEPTH = 8;

    static void checkField(String name, String value) {
        if (value != null && looksLikeCredential(value)) {
            throw new UnsafeAuditContent("audit field '" + name + "' looks like a token or secret; log an identifier or digest");
        }
    }

    static void checkDetails(Map<String, ?> details) {
        checkValue("details", details, 0);
    }

    private static void checkValue(String path, Object v, int depth) {
        if (v == null) {
            return;
        }
        if (depth > MAX_DEPTH) {
            throw new UnsafeAuditContent("audit details nested deeper than " + MAX_DEPTH + " levels at " + path);
        }
        if (v instanceof Map<?, ?> m) {
            for (Map.Entry<?, ?> e : m.entrySet()) {
                String key = String.valueOf(e.getKey());
                if (secretKey(key)) {
                    throw new UnsafeAuditContent("audit detail '" + path + "." + key
                            + "' names a secret; never log tokens, secrets, assertions or passwords");
                }
                checkValue(path + "." + key, e.getValue(), depth + 1);
            }
        } else if (v instanceof Collection<?> c) {
            int i = 0;
            for (Object o : c) {
                checkValue(path + "[" + i++ + "]", o, depth + 1);
            }
        } else if (v instanceof Object[] arr) {
            for (int i = 0; i < arr.length; i++) {
                checkValue(path + "[" + i + "]", arr[i], depth + 1);
            }
        } else if (v instanceof CharSequence s) {
            if (looksLikeCredential(s.toString())) {
                throw new UnsafeAuditContent("audit detail '" + path + "' looks like a token or secret; log an identifier or digest");
            }
        }
    }

    static boolean secretKey(String key) {
        String k = key.toLowerCase(Locale.ROOT).replace('-', '_');
        // allowed descriptive keys that merely mention tokens
        if (k.endsWith("_type") || k.endsWith("_jti") || k.endsWith("_sha256") || k.endsWith("_hash")
                || k.endsWith("_kid") || k.endsWith("_id") || k.endsWith("_count")) {
            return false;
        }
        return SECRET_KEY.matcher(k).find();
    }

    public static boolean looksLikeCredential(String s) {
        if (s.length() < 16) {
            return false;
        }
        return JWT.matcher(s).find() || THREE_SEGMENTS.matcher(s).matches() || PEM_PRIVATE.matcher(s).find()
                || ADMIN_TOKEN.matcher(s).find();
    }
}
