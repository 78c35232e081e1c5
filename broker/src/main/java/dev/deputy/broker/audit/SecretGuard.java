package dev.deputy.broker.audit;

import com.fasterxml.jackson.databind.JsonNode;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The last line of defence behind {@link AuditSchema}: recognises values that <em>are</em> credentials — a
 * JWT/JWS/JWE whose first segment decodes to a JOSE header, a PEM private key, a Deputy admin token or refresh
 * token — and details keys that name secrets. It never refuses anything: callers replace what it finds with
 * {@code [redacted:<kind>]} and raise an {@link AuditAlarms alarm}. Identifiers shaped like
 * {@code payments.settlement.reconciler} or {@code jonathan.christopher.williams} are not credentials and pass
 * untouched (the former three-segment heuristic refused them).
 */
public final class SecretGuard {
    private SecretGuard() {
    }

    /** What a credential found in a value is, for the redaction marker. */
    public enum Found {
        JWT("jwt"), PRIVATE_KEY("private_key"), ADMIN_TOKEN("admin_token"), REFRESH_TOKEN("refresh_token");

        private final String wire;

        Found(String wire) {
            this.wire = wire;
        }

        public String marker() {
            return "[redacted:" + wire + "]";
        }

        public String wire() {
            return wire;
        }
    }

    // compact JWS (3 segments) or JWE (5 segments), or a clipped one (header and the start of the rest): "eyJ" is
    // base64url of '{"', the start of every JOSE header; the header must decode to be taken for one
    private static final Pattern JWT = Pattern.compile(
            "eyJ[A-Za-z0-9_-]{2,}={0,2}\\.[A-Za-z0-9_-]*(?:\\.[A-Za-z0-9_-]*){0,3}");
    private static final Pattern PEM_PRIVATE = Pattern.compile(
            "-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----(?:.*?-----END [A-Z0-9 ]*PRIVATE KEY-----)?", Pattern.DOTALL);
    private static final Pattern ADMIN_TOKEN = Pattern.compile("\\bdpa_[A-Za-z0-9_-]{20,}");
    private static final Pattern REFRESH_TOKEN = Pattern.compile("\\bdrt_[A-Za-z0-9_-]{20,}");
    private static final Pattern SECRET_KEY = Pattern.compile(
            "(secret|password|passwd|passphrase|assertion|private_?key|credential_value|code_verifier|"
                    + "^authorization$|^cookie$|bearer|(^|_)token$|^token_value$|^jwt$|^id_token|^access_token|^refresh_token)");

    /** The first credential in {@code s}, or null. */
    public static Found find(String s) {
        if (s == null || s.length() < 16) {
            return null;
        }
        if (s.contains("eyJ")) {
            Matcher m = JWT.matcher(s);
            while (m.find()) {
                if (joseHeader(m.group())) {
                    return Found.JWT;
                }
            }
        }
        if (s.contains("PRIVATE KEY-----") && PEM_PRIVATE.matcher(s).find()) {
            return Found.PRIVATE_KEY;
        }
        if (s.contains("dpa_") && ADMIN_TOKEN.matcher(s).find()) {
            return Found.ADMIN_TOKEN;
        }
        if (s.contains("drt_") && REFRESH_TOKEN.matcher(s).find()) {
            return Found.REFRESH_TOKEN;
        }
        return null;
    }

    public static boolean looksLikeCredential(String s) {
        return find(s) != null;
    }

    /**
     * Free text with every credential in it replaced by its marker (the rest of the text is kept: a reason
     * stays readable). Returns the same instance when nothing was found.
     */
    public static String redactText(String s) {
        if (find(s) == null) {
            return s;
        }
        String out = s;
        Matcher m = JWT.matcher(out);
        StringBuilder sb = new StringBuilder();
        while (m.find()) {
            m.appendReplacement(sb, Matcher.quoteReplacement(joseHeader(m.group()) ? Found.JWT.marker() : m.group()));
        }
        m.appendTail(sb);
        out = sb.toString();
        out = PEM_PRIVATE.matcher(out).replaceAll(Matcher.quoteReplacement(Found.PRIVATE_KEY.marker()));
        out = ADMIN_TOKEN.matcher(out).replaceAll(Matcher.quoteReplacement(Found.ADMIN_TOKEN.marker()));
        out = REFRESH_TOKEN.matcher(out).replaceAll(Matcher.quoteReplacement(Found.REFRESH_TOKEN.marker()));
        return out;
    }

    /** Keys already classified (a pure function of the key); bounded: past it the map starts over. */
    private static final java.util.concurrent.ConcurrentHashMap<String, Boolean> KNOWN_KEYS =
            new java.util.concurrent.ConcurrentHashMap<>();
    private static final int MAX_KNOWN_KEYS = 4096;
    private static final int MAX_KNOWN_KEY_LENGTH = 128;

    /**
     * A details key that names a secret ({@code client_secret}, {@code password}, {@code *_token}, ...). Every
     * metadata key of every entry asks (a decision's arguments, inputs and attributes: about ten), and the answer is
     * the same each time: it is remembered per key (at most {@value #MAX_KNOWN_KEYS} keys of at most
     * {@value #MAX_KNOWN_KEY_LENGTH} characters) instead of running the pattern again.
     */
    public static boolean secretKey(String key) {
        Boolean known = KNOWN_KEYS.get(key);
        if (known != null) {
            return known;
        }
        boolean secret = secretKeyNow(key);
        if (key.length() <= MAX_KNOWN_KEY_LENGTH) {
            if (KNOWN_KEYS.size() >= MAX_KNOWN_KEYS) {
                KNOWN_KEYS.clear();
            }
            KNOWN_KEYS.put(key, secret);
        }
        return secret;
    }

    static boolean secretKeyNow(String key) {
        String k = key.toLowerCase(Locale.ROOT).replace('-', '_');
        // descriptive keys that merely mention tokens
        if (k.endsWith("_type") || k.endsWith("_jti") || k.endsWith("_sha256") || k.endsWith("_hash")
                || k.endsWith("_kid") || k.endsWith("_id") || k.endsWith("_count")) {
            return false;
        }
        return SECRET_KEY.matcher(k).find();
    }

    /** RFC 7515 §4 / RFC 7516 §4: the first segment is a base64url JSON object with {@code alg} (or {@code enc}). */
    private static boolean joseHeader(String compact) {
        int dot = compact.indexOf('.');
        String first = dot < 0 ? compact : compact.substring(0, dot);
        if (first.length() > 4096) {
            return true; // absurd for an identifier; treat as a token
        }
        try {
            byte[] raw = Base64.getUrlDecoder().decode(first.replace("=", ""));
            JsonNode h = AuditJson.MAPPER.readTree(new String(raw, StandardCharsets.UTF_8));
            return h != null && h.isObject() && (h.has("alg") || h.has("enc") || h.has("typ"));
        } catch (Exception e) {
            return false;
        }
    }
}
