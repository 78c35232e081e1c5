package dev.deputy.broker.token;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jwt.JWTClaimsSet;
import dev.deputy.broker.config.PublicUrl;
import dev.deputy.broker.keys.SigningKeys;
import dev.deputy.broker.tenant.Tenant;
import dev.deputy.broker.tenant.Tenants;
import dev.deputy.broker.tracing.Traces;
import jakarta.inject.Singleton;

import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Mints RFC 9068 JWT access tokens ({@code typ: at+jwt}) signed with the tenant's active key. */
@Singleton
public class AccessTokens {
    public static final JOSEObjectType AT_JWT = new JOSEObjectType("at+jwt");
    /** Claims the minter owns; extra claims may not set them. */
    static final Set<String> RESERVED = Set.of("iss", "sub", "aud", "exp", "iat", "nbf", "jti", "client_id", "scope",
            "act", "cnf", "sub_id", "tenant");
    private static final SecureRandom RANDOM = new SecureRandom();

    private final SigningKeys keys;
    private final PublicUrl publicUrl;
    private final Tenants tenants;
    private final Clock clock;
    /** Set once at wiring ({@link #traces(Traces)}). */
    private volatile Traces traces = Traces.OFF;

    public AccessTokens(SigningKeys keys, PublicUrl publicUrl, Tenants tenants) {
        this(keys, publicUrl, tenants, Clock.systemUTC());
    }

    AccessTokens(SigningKeys keys, PublicUrl publicUrl, Tenants tenants, Clock clock) {
        this.keys = keys;
        this.publicUrl = publicUrl;
        this.tenants = tenants;
        this.clock = clock;
    }

    @jakarta.inject.Inject
    void traces(Traces traces) {
        this.traces = traces;
    }

    public MintedToken mint(AccessTokenSpec spec) {
        try (Traces.Step step = traces.step("deputy.token.mint")) {
            step.attr("deputy.tenant", spec.tenantId());
            return mintNow(spec);
        }
    }

    private MintedToken mintNow(AccessTokenSpec spec) {
        Tenant tenant = tenants.find(spec.tenantId())
                .orElseThrow(() -> new IllegalArgumentException("unknown tenant " + spec.tenantId()));
        Duration ttl = spec.ttl() == null || spec.ttl().compareTo(tenant.accessTokenTtl()) > 0
                ? tenant.accessTokenTtl() : spec.ttl();
        Instant now = Instant.ofEpochSecond(clock.instant().getEpochSecond());
        Instant exp = now.plus(ttl);
        String jti = newJti();
        JWTClaimsSet.Builder b = new JWTClaimsSet.Builder();
        spec.extraClaims().forEach((k, v) -> {
            if (!RESERVED.contains(k)) {
                b.claim(k, v);
            }
        });
        // RFC 9068 §2.2: iss, exp, aud, sub, client_id, iat, jti REQUIRED
        b.issuer(publicUrl.issuer(tenant.id()))
                .subject(spec.subject())
                .audience(spec.audience())
                .expirationTime(Date.from(exp))
                .issueTime(Date.from(now))
                .jwtID(jti)
                .claim("client_id", spec.clientId())
                .claim("tenant", tenant.id());
        if (!spec.scopes().isEmpty()) {
            b.claim("scope", String.join(" ", spec.scopes()));
        }
        if (spec.subjectIssuer() != null) {
            // RFC 9493 §3.2.4: iss_sub subject identifier
            Map<String, Object> subId = new LinkedHashMap<>();
            subId.put("format", "iss_sub");
            subId.put("iss", spec.subjectIssuer());
            subId.put("sub", spec.subject());
            b.claim("sub_id", subId);
        }
        if (!spec.actorChain().isEmpty()) {
            b.claim("act", actClaim(spec.actorChain()));
        }
        Map<String, Object> cnf = new LinkedHashMap<>();
        if (spec.certThumbprint() != null) {
            cnf.put("x5t#S256", spec.certThumbprint()); // RFC 8705 §3.1
        }
        if (spec.jkt() != null) {
            cnf.put("jkt", spec.jkt()); // RFC 9449 §6.1
        }
        if (!cnf.isEmpty()) {
            b.claim("cnf", cnf);
        }
        JWTClaimsSet claims = b.build();
        return new MintedToken(keys.sign(tenant.id(), AT_JWT, claims), jti, now, exp, claims);
    }

    /** RFC 8693 §4.1: {@code [B, A]} → {@code {"sub": B, "act": {"sub": A}}} (the current actor outermost). */
    public static Map<String, Object> actClaim(List<String> chain) {
        Map<String, Object> inner = null;
        for (int i = chain.size() - 1; i >= 0; i--) {
            Map<String, Object> act = new LinkedHashMap<>();
            act.put("sub", chain.get(i));
            if (inner != null) {
                act.put("act", inner);
            }
            inner = act;
        }
        return inner;
    }

    static String newJti() {
        byte[] b = new byte[16];
        RANDOM.nextBytes(b);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }
}
