package dev.deputy.broker.registration;

import dev.deputy.broker.config.Limit;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * {@code config/tenants/<t>/registration.yml}: how a tenant lets MCP clients in by themselves. Absent file or keys
 * take the defaults below.
 *
 * @param open                       dynamic client registration (RFC 7591) at {@code /t/<t>/register}; default true
 * @param redirectUris               globs a registered redirect URI must match ({@code *}: any run of characters
 *                                   without {@code / ? # @ :}; {@code **}: anything); empty = any redirect URI
 *                                   that passes the generic rules (https, loopback http, native scheme)
 * @param authMethods                {@code token_endpoint_auth_method}s DCR accepts; default {@code [none]}
 *                                   (public MCP clients with PKCE); {@code client_secret_basic},
 *                                   {@code client_secret_post} optional
 * @param maxClients                 most dynamically registered clients at once; default 1000
 * @param unusedExpiry               a registered client to which no token was issued within this time (since its
 *                                   last token) is removed; default 30d
 * @param clientIdMetadataDocuments  accept {@code https} client_ids (Client ID Metadata Documents); default true
 * @param pendingExpiry              a registration that never got a token is removed this long after it was made;
 *                                   default 24h (a bare {@code /authorize} does not count as use)
 * @param maxPendingPerSource        most never-used registrations from one source address at once; default 20
 * @param ratePerSource              most registration requests from one source address per {@code rateWindow};
 *                                   default 30 (0: no limit)
 * @param rateWindow                 the window of {@code ratePerSource}; default 1h
 */
public record RegistrationPolicy(Boolean open, List<String> redirectUris, List<String> authMethods, Integer maxClients,
                                 Duration unusedExpiry, Boolean clientIdMetadataDocuments, Duration pendingExpiry,
                                 Integer maxPendingPerSource, Integer ratePerSource, Duration rateWindow) {
    public static final Set<String> DCR_AUTH_METHODS = Set.of("none", "client_secret_basic", "client_secret_post");
    public static final RegistrationPolicy DEFAULT = new RegistrationPolicy(null, null, null, null, null, null, null,
            null, null, null);

    public RegistrationPolicy {
        open = open == null || open;
        redirectUris = redirectUris == null ? List.of() : List.copyOf(redirectUris);
        authMethods = authMethods == null || authMethods.isEmpty() ? List.of("none") : List.copyOf(authMethods);
        for (String m : authMethods) {
            if (!DCR_AUTH_METHODS.contains(m)) {
                throw new IllegalArgumentException("auth_methods: '" + m + "' is not one of " + DCR_AUTH_METHODS
                        + " (agents authenticate with mTLS or private_key_jwt through the agent registry)");
            }
        }
        maxClients = maxClients == null ? 1000 : maxClients;
        if (maxClients < 0) {
            throw new IllegalArgumentException("max_clients must not be negative");
        }
        unusedExpiry = unusedExpiry == null ? Duration.ofDays(30) : unusedExpiry;
        if (unusedExpiry.isNegative() || unusedExpiry.isZero()) {
            throw new IllegalArgumentException("unused_expiry must be positive");
        }
        clientIdMetadataDocuments = clientIdMetadataDocuments == null || clientIdMetadataDocuments;
        pendingExpiry = pendingExpiry == null ? Duration.ofHours(24) : pendingExpiry;
        if (pendingExpiry.isNegative() || pendingExpiry.isZero()) {
            throw new IllegalArgumentException("pending_expiry must be positive");
        }
        maxPendingPerSource = maxPendingPerSource == null ? 20 : maxPendingPerSource;
        if (maxPendingPerSource < 1) {
            throw new IllegalArgumentException("max_pending_per_source must be at least 1");
        }
        ratePerSource = ratePerSource == null ? 30 : ratePerSource;
        if (ratePerSource < 0) {
            throw new IllegalArgumentException("rate_per_source must not be negative (0: no limit)");
        }
        rateWindow = rateWindow == null ? Duration.ofHours(1) : rateWindow;
        if (rateWindow.isNegative() || rateWindow.isZero()) {
            throw new IllegalArgumentException("rate_window must be positive");
        }
        try {
            Limit.of(ratePerSource, rateWindow);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("rate_per_source / rate_window: " + e.getMessage());
        }
    }

    /** {@code rate_per_source} per {@code rate_window}, as a rate of the broker's limiter (off when 0). */
    public Limit rateLimit() {
        return Limit.of(ratePerSource, rateWindow);
    }

    /** Whether {@code redirect} matches one of the tenant's patterns (or there are none). */
    public boolean redirectAllowed(String redirect) {
        if (redirectUris.isEmpty()) {
            return true;
        }
        for (String glob : redirectUris) {
            if (glob(glob).matcher(redirect).matches()) {
                return true;
            }
        }
        return false;
    }

    static Pattern glob(String glob) {
        StringBuilder re = new StringBuilder();
        for (int i = 0; i < glob.length(); i++) {
            char c = glob.charAt(i);
            if (c == '*' && i + 1 < glob.length() && glob.charAt(i + 1) == '*') {
                re.append(".*");
                i++;
            } else if (c == '*') {
                re.append("[^/?#@:]*");
            } else {
                re.append(Pattern.quote(String.valueOf(c)));
            }
        }
        return Pattern.compile(re.toString());
    }
}
