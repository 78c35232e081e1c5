package dev.deputy.broker.registration;

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
 * @param unusedExpiry               a registered client not used for an authorization within this time is
 *                                   removed; default 30d
 * @param clientIdMetadataDocuments  accept {@code https} client_ids (Client ID Metadata Documents); default true
 */
public record RegistrationPolicy(Boolean open, List<String> redirectUris, List<String> authMethods, Integer maxClients,
                                 Duration unusedExpiry, Boolean clientIdMetadataDocuments) {
    public static final Set<String> DCR_AUTH_METHODS = Set.of("none", "client_secret_basic", "client_secret_post");
    public static final RegistrationPolicy DEFAULT = new RegistrationPolicy(null, null, null, null, null, null);

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
