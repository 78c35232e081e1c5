package dev.deputy.broker.agent;

import java.net.URI;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * A registered OAuth client (an MCP client app): pre-registered from {@code config/tenants/<t>/clients/*.yml},
 * later also by DCR. {@code internal} clients are first party: the tenant pre-approved them, no consent.
 *
 * @param authMethod {@code none} (public client, PKCE), {@code client_secret_basic} or {@code client_secret_post}
 * @param secretHash {@link ClientSecrets#hash} of the secret for confidential clients, else null
 * @param managedBy  {@code config}, {@code api} or {@code dcr}
 */
public record OAuthClient(String tenantId, String clientId, String name, List<String> redirectUris, boolean internal,
                          String authMethod, String secretHash, String managedBy, long createdAt, long updatedAt) {

    public static final Set<String> AUTH_METHODS = Set.of("none", "client_secret_basic", "client_secret_post");

    public OAuthClient {
        redirectUris = redirectUris == null ? List.of() : List.copyOf(redirectUris);
        if (!AUTH_METHODS.contains(authMethod)) {
            throw new IllegalArgumentException("token_endpoint_auth_method must be none, client_secret_basic or client_secret_post");
        }
    }

    public boolean isPublic() {
        return "none".equals(authMethod);
    }

    /**
     * Whether {@code requested} is one of the registered redirect URIs. OAuth 2.1 §2.3.1 / RFC 9700 §4.1.3:
     * exact string comparison, except RFC 8252 §7.3: for loopback IP redirect URIs ({@code http://127.0.0.1}
     * and {@code http://[::1]}) the port is ignored, since native apps bind an ephemeral port.
     * {@code localhost} is NOT treated as loopback (RFC 8252 §8.3 says NOT RECOMMENDED; it can be re-pointed
     * by a hosts file or resolve to a non-loopback interface): it must match exactly, port included.
     */
    public boolean redirectAllowed(String requested) {
        if (requested == null) {
            return false;
        }
        for (String registered : redirectUris) {
            if (registered.equals(requested) || loopbackMatch(registered, requested)) {
                return true;
            }
        }
        return false;
    }

    static boolean loopbackMatch(String registered, String requested) {
        URI a;
        URI b;
        try {
            a = new URI(registered);
            b = new URI(requested);
        } catch (Exception e) {
            return false;
        }
        if (!"http".equals(a.getScheme()) || !"http".equals(b.getScheme()) || !isLoopbackIp(a.getHost())) {
            return false;
        }
        return a.getHost().equals(b.getHost())
                && eq(a.getRawUserInfo(), b.getRawUserInfo()) && b.getRawUserInfo() == null
                && eq(a.getRawPath(), b.getRawPath())
                && eq(a.getRawQuery(), b.getRawQuery())
                && b.getRawFragment() == null;
    }

    private static boolean isLoopbackIp(String host) {
        if (host == null) {
            return false;
        }
        String h = host.toLowerCase(Locale.ROOT);
        return h.equals("127.0.0.1") || h.equals("[::1]");
    }

    private static boolean eq(String x, String y) {
        return x == null ? y == null : x.equals(y);
    }
}
