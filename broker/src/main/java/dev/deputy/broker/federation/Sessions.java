package dev.deputy.broker.federation;

import dev.deputy.broker.agent.ClientSecrets;
import dev.deputy.broker.config.PublicUrl;
import dev.deputy.broker.ephemeral.EphemeralStore;
import io.micronaut.context.annotation.Value;
import jakarta.inject.Singleton;

import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.Optional;

/**
 * Broker login sessions. The cookie holds 256 random bits; the store holds the session under the SHA-256 of
 * that value (a leaked store dump names no usable cookie). The lifetime is absolute: never longer than the
 * upstream ID token was valid, nor than {@code deputy.session.max-lifetime} (default 8h).
 *
 * <p>Cookie: {@code HttpOnly}, {@code SameSite=Lax}, {@code Path=/t/<tenant>/}; over https also {@code Secure}
 * with the {@code __Secure-} prefix. ({@code __Host-} would require {@code Path=/}, which would send one tenant's
 * session to every tenant; the path scoping matters more here.)
 */
@Singleton
public class Sessions {
    private static final SecureRandom RANDOM = new SecureRandom();
    private final EphemeralStore store;
    private final PublicUrl publicUrl;
    private final Duration maxLifetime;

    public Sessions(EphemeralStore store, PublicUrl publicUrl,
                    @Value("${deputy.session.max-lifetime:8h}") Duration maxLifetime) {
        this.store = store;
        this.publicUrl = publicUrl;
        this.maxLifetime = maxLifetime;
    }

    public boolean secure() {
        return publicUrl.base().startsWith("https://");
    }

    /** What a session is for: signing in to applications, or to the account page. */
    public enum Kind {
        LOGIN("session:", "deputy_session", "/"),
        ACCOUNT("account-session:", "deputy_account", "/account");

        final String prefix;
        final String cookie;
        final String path;

        Kind(String prefix, String cookie, String path) {
            this.prefix = prefix;
            this.cookie = cookie;
            this.path = path;
        }
    }

    public String cookieName() {
        return cookieName(Kind.LOGIN);
    }

    public String loginCookieName() {
        return secure() ? "__Secure-deputy_login" : "deputy_login";
    }

    /** Starts a login session; returns the cookie to set. {@code upstreamExp} (epoch ms) may be null. */
    public CookieSpec start(User user, Long upstreamExp, long now) {
        return start(Kind.LOGIN, user, upstreamExp, now);
    }

    /**
     * Starts a session of {@code kind}: the account page has its own ({@code deputy_account}, {@code Path=/t/<tenant>/account},
     * stored apart), so signing in to the account page never signs a browser in to applications, nor the reverse.
     */
    public CookieSpec start(Kind kind, User user, Long upstreamExp, long now) {
        long end = now + maxLifetime.toMillis();
        if (upstreamExp != null && upstreamExp < end) {
            end = upstreamExp;
        }
        String id = random();
        Session s = new Session(user.tenantId(), user.id(), user.connectorId(), user.upstreamIss(), user.upstreamSub(),
                user.email(), user.name(), user.groups(), user.roles(), now, end);
        Duration ttl = Duration.ofMillis(Math.max(1000, end - now));
        store.put(key(kind, user.tenantId(), id), Json.write(s), ttl);
        return cookie(kind, user.tenantId(), id, ttl.toSeconds());
    }

    public Optional<Session> find(String tenantId, String cookieValue, long now) {
        return find(Kind.LOGIN, tenantId, cookieValue, now);
    }

    public Optional<Session> find(Kind kind, String tenantId, String cookieValue, long now) {
        if (cookieValue == null || cookieValue.isEmpty() || cookieValue.length() > 100) {
            return Optional.empty();
        }
        return store.get(key(kind, tenantId, cookieValue)).map(v -> Json.read(v, Session.class))
                .filter(s -> s.tenantId().equals(tenantId) && s.expiresAt() > now);
    }

    /** A stable, non-secret handle of the session (binds consent forms to it). */
    public static String handle(String cookieValue) {
        return cookieValue == null ? "" : ClientSecrets.sha256Hex("session-handle:" + cookieValue);
    }

    public void end(String tenantId, String cookieValue) {
        end(Kind.LOGIN, tenantId, cookieValue);
    }

    public void end(Kind kind, String tenantId, String cookieValue) {
        if (cookieValue != null && !cookieValue.isEmpty() && cookieValue.length() <= 100) {
            store.delete(key(kind, tenantId, cookieValue));
        }
    }

    public CookieSpec clearCookie(String tenantId) {
        return cookie(Kind.LOGIN, tenantId, "", 0);
    }

    public CookieSpec clearCookie(Kind kind, String tenantId) {
        return cookie(kind, tenantId, "", 0);
    }

    /** The short-lived cookie that binds an upstream login to the browser that started it. */
    public CookieSpec loginCookie(String tenantId, String value, Duration ttl) {
        return new CookieSpec(loginCookieName(), value, "/t/" + tenantId + "/", ttl.toSeconds(), secure());
    }

    public CookieSpec clearLoginCookie(String tenantId) {
        return new CookieSpec(loginCookieName(), "", "/t/" + tenantId + "/", 0, secure());
    }

    public String cookieName(Kind kind) {
        return (secure() ? "__Secure-" : "") + kind.cookie;
    }

    private CookieSpec cookie(Kind kind, String tenantId, String value, long maxAge) {
        return new CookieSpec(cookieName(kind), value, "/t/" + tenantId + kind.path, maxAge, secure());
    }

    private static String key(Kind kind, String tenantId, String cookieValue) {
        return kind.prefix + tenantId + ":" + ClientSecrets.sha256Hex(cookieValue);
    }

    public static String random() {
        byte[] b = new byte[32];
        RANDOM.nextBytes(b);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }
}
