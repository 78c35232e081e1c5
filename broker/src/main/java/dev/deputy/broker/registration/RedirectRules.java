package dev.deputy.broker.registration;

import com.nimbusds.oauth2.sdk.client.RegistrationError;

import java.net.URI;
import java.util.List;
import java.util.Locale;

/**
 * Redirect URI rules for self-registered clients (DCR and CIMD), by {@code application_type}
 * (OpenID Connect Dynamic Registration §2; RFC 8252 for native apps):
 * <ul>
 *   <li>every URI: absolute, no fragment (RFC 6749 §3.1.2), no user info, not {@code javascript:}/{@code data:};</li>
 *   <li>{@code web}: {@code https} only, and not a loopback host;</li>
 *   <li>{@code native}: loopback {@code http} ({@code 127.0.0.1}, {@code [::1]}, {@code localhost}; RFC 8252 §7.3),
 *       a private-use scheme in reverse-domain form (RFC 8252 §7.1), or {@code https} (claimed, §7.2).</li>
 * </ul>
 * When a client omits {@code application_type}, Deputy infers {@code native} if any URI is loopback or a
 * private-use scheme (what stock MCP clients send), else {@code web}, and echoes its choice.
 */
public final class RedirectRules {
    private RedirectRules() {
    }

    /** Checks the URIs and returns the effective application_type ({@code web} or {@code native}). */
    public static String check(List<String> uris, String applicationType, RegistrationPolicy policy) {
        if (uris == null || uris.isEmpty()) {
            // RFC 7591 §2: redirect_uris is required for redirect-based flows (authorization_code)
            throw new RegistrationException(RegistrationError.INVALID_REDIRECT_URI, "redirect_uris: at least one is required",
                    "redirect_uris_missing");
        }
        if (uris.size() > 20) {
            throw new RegistrationException(RegistrationError.INVALID_REDIRECT_URI, "redirect_uris: at most 20",
                    "redirect_uris_too_many");
        }
        String type = applicationType;
        if (type == null) {
            type = uris.stream().anyMatch(u -> isLoopbackOrPrivateScheme(u)) ? "native" : "web";
        }
        if (!"web".equals(type) && !"native".equals(type)) {
            throw new RegistrationException(RegistrationError.INVALID_CLIENT_METADATA,
                    "application_type must be web or native", "application_type");
        }
        for (String r : uris) {
            checkOne(r, type);
            if (policy != null && !policy.redirectAllowed(r)) {
                throw new RegistrationException(RegistrationError.INVALID_REDIRECT_URI,
                        "redirect_uri '" + r + "' is not allowed by this tenant's registration policy", "redirect_uri_forbidden");
            }
        }
        return type;
    }

    /**
     * The raw {@code redirect_uris} member before any parser sees it: each a string that {@link URI} accepts (RFC 3986;
     * no {@code "}, {@code \\}, spaces or control characters). The URI is not quoted back: error_description may
     * carry only %x20-21 / %x23-5B / %x5D-7E (RFC 6749 §5.2).
     */
    public static void checkSyntax(Object redirectUris) {
        if (!(redirectUris instanceof List<?> list)) {
            return; // absent or not an array: the metadata parser answers that
        }
        for (Object o : list) {
            if (!(o instanceof String s)) {
                throw bad("redirect_uris must be strings", "redirect_uri_syntax");
            }
            if (s.length() > 512) {
                throw bad("a redirect_uri is longer than 512 characters", "redirect_uri_length");
            }
            try {
                new URI(s);
            } catch (Exception e) {
                throw bad("a redirect_uri is not a valid URI (RFC 3986)", "redirect_uri_syntax");
            }
        }
    }

    static void checkOne(String r, String type) {
        URI u;
        try {
            u = new URI(r);
        } catch (Exception e) {
            throw bad("'" + r + "' is not a URI", "redirect_uri_syntax");
        }
        if (r.length() > 512) {
            throw bad("a redirect_uri is longer than 512 characters", "redirect_uri_length");
        }
        if (!u.isAbsolute() || u.getRawFragment() != null || u.isOpaque() && !isPrivateScheme(u.getScheme())) {
            throw bad("'" + r + "' must be absolute and have no fragment", "redirect_uri_syntax");
        }
        String scheme = u.getScheme().toLowerCase(Locale.ROOT);
        if (u.getRawUserInfo() != null) {
            throw bad("'" + r + "' must not carry user info", "redirect_uri_userinfo");
        }
        boolean loopback = isLoopbackHost(u.getHost());
        if ("web".equals(type)) {
            // OIDC Registration §2: web clients use https and not localhost
            if (!"https".equals(scheme) || u.getHost() == null || loopback) {
                throw bad("'" + r + "': a web client's redirect URIs are https and not loopback", "redirect_uri_web");
            }
            return;
        }
        if ("http".equals(scheme)) {
            if (!loopback) {
                // RFC 8252 §8.3 / OAuth 2.1 §2.3.1: plain http only for loopback
                throw bad("'" + r + "': http only for loopback (127.0.0.1, [::1], localhost)", "redirect_uri_http");
            }
            return;
        }
        if ("https".equals(scheme)) {
            if (u.getHost() == null) {
                throw bad("'" + r + "' has no host", "redirect_uri_syntax");
            }
            return;
        }
        if (!isPrivateScheme(scheme)) {
            // RFC 8252 §7.1: a private-use scheme is a reverse domain name (contains a period)
            throw bad("'" + r + "': a native app scheme must be a reverse domain name (RFC 8252 §7.1)", "redirect_uri_scheme");
        }
    }

    private static boolean isPrivateScheme(String scheme) {
        String s = scheme.toLowerCase(Locale.ROOT);
        return s.contains(".") && !s.equals("http") && !s.equals("https");
    }

    static boolean isLoopbackOrPrivateScheme(String r) {
        try {
            URI u = new URI(r);
            String scheme = u.getScheme() == null ? "" : u.getScheme().toLowerCase(Locale.ROOT);
            return "http".equals(scheme) && isLoopbackHost(u.getHost()) || isPrivateScheme(scheme);
        } catch (Exception e) {
            return false;
        }
    }

    static boolean isLoopbackHost(String host) {
        if (host == null) {
            return false;
        }
        String h = host.toLowerCase(Locale.ROOT);
        return h.equals("127.0.0.1") || h.equals("[::1]") || h.equals("localhost");
    }

    private static RegistrationException bad(String description, String reason) {
        return new RegistrationException(RegistrationError.INVALID_REDIRECT_URI, description, reason);
    }
}
