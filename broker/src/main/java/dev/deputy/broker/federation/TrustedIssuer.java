package dev.deputy.broker.federation;

import java.util.List;
import java.util.regex.Pattern;

/**
 * An upstream issuer whose signed assertions a tenant accepts at the token endpoint
 * ({@code config/tenants/<t>/trust/*.yml}):
 * <pre>
 * issuer: https://idp.example.com            # exact iss
 * jwks_uri: https://idp.example.com/jwks     # or jwks: {"keys": [...]} inline
 * grants: [id-jag]                           # id-jag (ID-JAG, typ oauth-id-jag+jwt) and/or jwt-bearer (RFC 7523 §2.1)
 * algorithms: [RS256, ES256]                 # allow-list; never none or HMAC
 * subjects: ["spiffe://corp.example/*"]      # jwt-bearer only: which sub values may get tokens ("*" suffix = prefix)
 * scopes: ["mcp:tool:deploy.read"]           # jwt-bearer only: the most a workload assertion may get
 * max_lifetime: 10m                          # exp - iat bound for assertions
 * </pre>
 */
public record TrustedIssuer(String issuer, String jwksUri, java.util.Map<String, Object> jwks, List<String> grants,
                            List<String> algorithms, List<String> subjects, List<String> scopes,
                            java.time.Duration maxLifetime) {
    public static final String ID_JAG = "id-jag";
    public static final String JWT_BEARER = "jwt-bearer";
    private static final List<String> SAFE_ALGS = List.of("RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
            "ES256", "ES384", "ES512", "EdDSA");

    public TrustedIssuer {
        if (issuer == null || issuer.isBlank()) {
            throw new IllegalArgumentException("issuer is required");
        }
        if ((jwksUri == null) == (jwks == null)) {
            throw new IllegalArgumentException("give exactly one of jwks_uri or jwks");
        }
        if (jwksUri != null && !(jwksUri.startsWith("https://") || jwksUri.startsWith("http://127.0.0.1")
                || jwksUri.startsWith("http://localhost"))) {
            throw new IllegalArgumentException("jwks_uri must be https (plain http only on loopback)");
        }
        grants = grants == null || grants.isEmpty() ? List.of(ID_JAG) : List.copyOf(grants);
        for (String g : grants) {
            if (!g.equals(ID_JAG) && !g.equals(JWT_BEARER)) {
                throw new IllegalArgumentException("grants: unknown '" + g + "' (use id-jag or jwt-bearer)");
            }
        }
        algorithms = algorithms == null || algorithms.isEmpty() ? List.of("RS256", "ES256") : List.copyOf(algorithms);
        for (String a : algorithms) {
            if (!SAFE_ALGS.contains(a)) {
                throw new IllegalArgumentException("algorithms: '" + a + "' is not allowed (asymmetric algorithms only)");
            }
        }
        subjects = subjects == null ? List.of() : List.copyOf(subjects);
        scopes = scopes == null ? List.of() : List.copyOf(scopes);
        maxLifetime = maxLifetime == null ? java.time.Duration.ofMinutes(10) : maxLifetime;
    }

    public boolean accepts(String grant) {
        return grants.contains(grant);
    }

    /** jwt-bearer: whether this subject may get tokens ({@code *} at the end matches a prefix). */
    public boolean allowsSubject(String sub) {
        for (String p : subjects) {
            if (p.endsWith("*") ? sub.startsWith(p.substring(0, p.length() - 1)) : p.equals(sub)) {
                return true;
            }
        }
        return false;
    }

    static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9._-]*");
}
