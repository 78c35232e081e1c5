package dev.deputy.broker.admin.signin;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.deputy.broker.admin.AdminGrant;
import dev.deputy.broker.admin.AdminPrincipal;
import dev.deputy.broker.admin.AdminRole;
import dev.deputy.broker.ephemeral.EphemeralStore;
import io.micronaut.context.annotation.Value;
import jakarta.inject.Singleton;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Console sessions: an opaque random id in an HttpOnly cookie; the session (the admin's grants, the IdP's
 * acr/amr/auth_time, the CSRF token, the ID token for RP-initiated logout) in the shared ephemeral store under the
 * id's SHA-256, so every node accepts it and signing out ends it everywhere at once.
 */
@Singleton
public class ConsoleSessions {
    public static final String COOKIE = "deputy_console";
    /** With https the cookie is {@code __Host-} prefixed (Secure, Path=/, no Domain: RFC 6265bis §4.1.3.2). */
    public static final String SECURE_COOKIE = "__Host-deputy_console";
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final ObjectMapper JSON = new ObjectMapper();

    private final EphemeralStore store;
    private final Duration ttl;

    ConsoleSessions(EphemeralStore store, @Value("${deputy.console.session-ttl:1h}") Duration ttl) {
        this.store = store;
        this.ttl = ttl;
    }

    public Duration ttl() {
        return ttl;
    }

    /** What the sign-in established. */
    public record SignedIn(String name, AdminPrincipal.SignIn signIn, List<AdminGrant> grants, Set<String> ownerIds,
                           String idToken) {
    }

    /** Stores a new session; returns the cookie value. */
    public String create(SignedIn s) {
        String id = "dpc_" + random(32);
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("name", s.name());
        doc.put("iss", s.signIn().issuer());
        doc.put("sub", s.signIn().subject());
        doc.put("acr", s.signIn().acr());
        doc.put("amr", s.signIn().amr());
        doc.put("auth_time", s.signIn().authTime());
        List<Map<String, Object>> grants = new ArrayList<>();
        for (AdminGrant g : s.grants()) {
            grants.add(Map.of("role", g.role().id(), "tenants", g.tenants()));
        }
        doc.put("grants", grants);
        doc.put("owner_ids", List.copyOf(s.ownerIds()));
        doc.put("csrf", random(24));
        doc.put("id_token", s.idToken());
        try {
            store.put(key(id), JSON.writeValueAsString(doc), ttl);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        return id;
    }

    public Optional<AdminPrincipal> find(String cookie) {
        return doc(cookie).map(d -> principal(cookie, d));
    }

    /** The ID token the session was opened with (the {@code id_token_hint} of RP-initiated logout). */
    public Optional<String> idToken(String cookie) {
        return doc(cookie).map(d -> (String) d.get("id_token"));
    }

    public void delete(String cookie) {
        if (valid(cookie)) {
            store.delete(key(cookie));
        }
    }

    @SuppressWarnings("unchecked")
    private Optional<Map<String, Object>> doc(String cookie) {
        if (!valid(cookie)) {
            return Optional.empty();
        }
        return store.get(key(cookie)).map(v -> {
            try {
                return (Map<String, Object>) JSON.readValue(v, Map.class);
            } catch (JsonProcessingException e) {
                return null;
            }
        });
    }

    @SuppressWarnings("unchecked")
    private static AdminPrincipal principal(String cookie, Map<String, Object> d) {
        List<AdminGrant> grants = new ArrayList<>();
        for (Map<String, Object> g : (List<Map<String, Object>>) d.getOrDefault("grants", List.of())) {
            AdminRole.parse((String) g.get("role")).ifPresent(r -> grants.add(new AdminGrant(r, (List<String>) g.get("tenants"))));
        }
        Number authTime = (Number) d.get("auth_time");
        var signIn = new AdminPrincipal.SignIn((String) d.get("iss"), (String) d.get("sub"), (String) d.get("acr"),
                (List<String>) d.getOrDefault("amr", List.of()), authTime == null ? null : authTime.longValue());
        return new AdminPrincipal((String) d.get("name"), AdminPrincipal.Kind.CONSOLE, grants,
                new LinkedHashSet<>((List<String>) d.getOrDefault("owner_ids", List.of())), false, signIn,
                new AdminPrincipal.Session(sha256(cookie), (String) d.get("csrf")));
    }

    private static boolean valid(String cookie) {
        return cookie != null && cookie.startsWith("dpc_") && cookie.length() < 100;
    }

    private static String key(String cookie) {
        return "console-session:" + sha256(cookie);
    }

    static String random(int bytes) {
        byte[] b = new byte[bytes];
        RANDOM.nextBytes(b);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }

    static String sha256(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
