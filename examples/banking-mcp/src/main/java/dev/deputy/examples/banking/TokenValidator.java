package dev.deputy.examples.banking;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.source.JWKSource;
import com.nimbusds.jose.jwk.source.JWKSourceBuilder;
import com.nimbusds.jose.proc.DefaultJOSEObjectTypeVerifier;
import com.nimbusds.jose.proc.JWSVerificationKeySelector;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jose.util.Base64URL;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.proc.BadJWTException;
import com.nimbusds.jwt.proc.DefaultJWTClaimsVerifier;
import com.nimbusds.jwt.proc.DefaultJWTProcessor;

import java.net.URI;
import java.net.URL;
import java.security.MessageDigest;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Validates Deputy access tokens locally (RFC 9068): signature against the tenant's JWKS (cached and refreshed by
 * Nimbus {@link JWKSourceBuilder}), {@code typ: at+jwt}, issuer byte for byte, audience = this server (RFC 8707;
 * one trailing slash ignored), expiry, and the certificate binding {@code cnf.x5t#S256} (RFC 8705 §3) when present.
 */
public final class TokenValidator {
    private final DefaultJWTProcessor<SecurityContext> processor = new DefaultJWTProcessor<>();
    private final String issuer;
    private final String resource;
    private final boolean acceptUnverifiableCnf;

    /** A validated token: its claims and the raw token (forwarded to Deputy when reporting the tool call). */
    public record Caller(JWTClaimsSet claims, String token) {
        public String sub() {
            return claims.getSubject();
        }

        public Set<String> scopes() {
            Object s = claims.getClaim("scope");
            Set<String> out = new HashSet<>();
            if (s instanceof String str) {
                for (String x : str.trim().split("\\s+")) {
                    if (!x.isEmpty()) {
                        out.add(x);
                    }
                }
            }
            return out;
        }

        /** The actor chain from {@code act} (RFC 8693 §4.1): the current actor first. */
        @SuppressWarnings("unchecked")
        public List<String> actors() {
            List<String> out = new ArrayList<>();
            Object act = claims.getClaim("act");
            for (int i = 0; act instanceof Map<?, ?> m && i < 10; i++) {
                out.add(String.valueOf(m.get("sub")));
                act = m.get("act");
            }
            return out;
        }
    }

    public static final class Invalid extends Exception {
        public Invalid(String message) {
            super(message, null, false, false);
        }
    }

    public TokenValidator(String issuer, String resource, URL jwks, boolean acceptUnverifiableCnf) {
        this(issuer, resource, JWKSourceBuilder.create(jwks).build(), acceptUnverifiableCnf);
    }

    public TokenValidator(String issuer, String resource, JWKSource<SecurityContext> keys, boolean acceptUnverifiableCnf) {
        this.issuer = issuer;
        this.resource = canonical(resource);
        this.acceptUnverifiableCnf = acceptUnverifiableCnf;
        // RFC 9068 §4: typ MUST be at+jwt
        processor.setJWSTypeVerifier(new DefaultJOSEObjectTypeVerifier<>(new JOSEObjectType("at+jwt")));
        processor.setJWSKeySelector(new JWSVerificationKeySelector<>(Set.of(JWSAlgorithm.ES256, JWSAlgorithm.RS256,
                JWSAlgorithm.PS256, JWSAlgorithm.EdDSA), keys));
        // RFC 9068 §4: iss exact, exp, sub, iat required; aud checked below (one trailing slash ignored)
        processor.setJWTClaimsSetVerifier(new DefaultJWTClaimsVerifier<>(null,
                new JWTClaimsSet.Builder().issuer(issuer).build(), Set.of("sub", "exp", "iat", "aud")) {
            @Override
            public void verify(JWTClaimsSet claims, SecurityContext ctx) throws BadJWTException {
                super.verify(claims, ctx);
                List<String> aud = claims.getAudience();
                if (aud == null || aud.stream().noneMatch(a -> canonical(a).equals(TokenValidator.this.resource))) {
                    throw new BadJWTException("the token is for another resource");
                }
            }
        });
    }

    public String issuer() {
        return issuer;
    }

    public Caller validate(String token, X509Certificate clientCert) throws Invalid {
        JWTClaimsSet claims;
        try {
            claims = processor.process(token, null);
        } catch (Exception e) {
            throw new Invalid(e.getMessage() == null ? "invalid token" : e.getMessage());
        }
        Object cnf = claims.getClaim("cnf");
        if (cnf instanceof Map<?, ?> m && m.get("x5t#S256") != null) {
            if (clientCert == null) {
                if (!acceptUnverifiableCnf) {
                    throw new Invalid("certificate-bound token presented without a client certificate");
                }
            } else if (!thumbprint(clientCert).equals(m.get("x5t#S256"))) {
                // RFC 8705 §3: the presented certificate must be the one the token is bound to
                throw new Invalid("the client certificate does not match the token's cnf");
            }
        }
        return new Caller(claims, token);
    }

    static String thumbprint(X509Certificate cert) {
        try {
            return Base64URL.encode(MessageDigest.getInstance("SHA-256").digest(cert.getEncoded())).toString();
        } catch (Exception e) {
            return "";
        }
    }

    static String canonical(String uri) {
        if (uri == null) {
            return "";
        }
        int scheme = uri.indexOf("://");
        return uri.endsWith("/") && scheme > 0 && uri.length() > scheme + 3 ? uri.substring(0, uri.length() - 1) : uri;
    }

    static URI uri(String s) {
        return URI.create(s);
    }
}
