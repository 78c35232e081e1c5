package dev.deputy.broker.authorize;

import java.net.URI;
import java.util.List;
import java.util.Locale;

/**
 * {@code config/tenants/<t>/clients/<client>.yml}: a pre-registered OAuth client (read strictly: unknown keys,
 * wrong types and the checks below are reported with file and line).
 */
public record ClientFile(String clientId, String name, List<String> redirectUris, Boolean internal,
                         String tokenEndpointAuthMethod, String clientSecretEnv) {
    public ClientFile {
        if (clientId == null || clientId.isBlank() || clientId.length() > 255) {
            throw new IllegalArgumentException("client_id is required (at most 255 characters)");
        }
        if (redirectUris == null || redirectUris.isEmpty()) {
            throw new IllegalArgumentException("redirect_uris: at least one is required");
        }
        for (String r : redirectUris) {
            checkRedirect(r);
        }
        redirectUris = List.copyOf(redirectUris);
        internal = internal != null && internal;
        tokenEndpointAuthMethod = tokenEndpointAuthMethod == null ? "none" : tokenEndpointAuthMethod;
        if (!dev.deputy.broker.agent.OAuthClient.AUTH_METHODS.contains(tokenEndpointAuthMethod)) {
            throw new IllegalArgumentException("token_endpoint_auth_method must be none, client_secret_basic or client_secret_post");
        }
        if (!"none".equals(tokenEndpointAuthMethod) && (clientSecretEnv == null || clientSecretEnv.isBlank())) {
            throw new IllegalArgumentException("client_secret_env is required for " + tokenEndpointAuthMethod);
        }
        if ("none".equals(tokenEndpointAuthMethod) && clientSecretEnv != null) {
            throw new IllegalArgumentException("a public client (none) has no secret: remove client_secret_env");
        }
        if (name == null || name.isBlank()) {
            name = clientId;
        }
    }

    /**
     * OAuth 2.1 §2.3.1 / RFC 6749 §3.1.2: absolute URI, no fragment. https, loopback http (RFC 8252 §7.3) or a
     * private-use scheme of a native app (RFC 8252 §7.1, reverse domain name with a dot).
     */
    static void checkRedirect(String r) {
        URI u;
        try {
            u = new URI(r);
        } catch (Exception e) {
            throw new IllegalArgumentException("redirect_uris: '" + r + "' is not a URI");
        }
        if (!u.isAbsolute() || u.getRawFragment() != null) {
            throw new IllegalArgumentException("redirect_uris: '" + r + "' must be absolute and have no fragment");
        }
        String scheme = u.getScheme().toLowerCase(Locale.ROOT);
        String host = u.getHost();
        boolean loopback = "127.0.0.1".equals(host) || "[::1]".equals(host) || "localhost".equals(host);
        if ("http".equals(scheme) && !loopback) {
            throw new IllegalArgumentException("redirect_uris: '" + r + "': http only for loopback (127.0.0.1, [::1], localhost)");
        }
        if (!"http".equals(scheme) && !"https".equals(scheme) && !scheme.contains(".")) {
            throw new IllegalArgumentException("redirect_uris: '" + r + "': a native app scheme must be a reverse domain name (RFC 8252 §7.1)");
        }
    }
}
