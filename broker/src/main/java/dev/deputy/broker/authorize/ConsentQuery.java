package dev.deputy.broker.authorize;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Optional;

/**
 * Filters of a page of a tenant's consents (the console's consent list); null means "any". Answered by the store in
 * SQL with keyset pages, newest first ({@code granted_at}, then the key, descending).
 *
 * @param user   the internal user id or the upstream {@code sub} exactly, the e-mail address in any case, or a part
 *               of the name in any case
 * @param client the client id exactly, or a part of it in any case
 */
public record ConsentQuery(String user, String client) {
    public static final ConsentQuery ALL = new ConsentQuery(null, null);

    /** A consent's place in the newest-first order: where a page starts or ends. */
    public record Cursor(long grantedAt, String userId, String clientId, String resourceId) {
        public static Cursor of(Consent c) {
            return new Cursor(c.grantedAt(), c.userId(), c.clientId(), c.resourceId());
        }

        /** As a URL-safe token: the time, then each part of the key base64url-encoded, separated by dots. */
        public String token() {
            return grantedAt + "." + b64(userId) + "." + b64(clientId) + "." + b64(resourceId);
        }

        /** The cursor of a token; empty when it is not one (a hand-edited link: the first page). */
        public static Optional<Cursor> parse(String token) {
            if (token == null) {
                return Optional.empty();
            }
            String[] p = token.split("\\.", -1);
            if (p.length != 4) {
                return Optional.empty();
            }
            try {
                Base64.Decoder d = Base64.getUrlDecoder();
                return Optional.of(new Cursor(Long.parseLong(p[0]), new String(d.decode(p[1]), StandardCharsets.UTF_8),
                        new String(d.decode(p[2]), StandardCharsets.UTF_8), new String(d.decode(p[3]), StandardCharsets.UTF_8)));
            } catch (IllegalArgumentException e) {
                return Optional.empty();
            }
        }

        private static String b64(String s) {
            return Base64.getUrlEncoder().withoutPadding().encodeToString(s.getBytes(StandardCharsets.UTF_8));
        }
    }

    /**
     * A page, newest first, and how many consents match in all.
     *
     * @param more whether the list goes on past the page in the direction it was read (older after a page read
     *             forwards, newer before a page read backwards)
     */
    public record Page(List<Consent> consents, boolean more, int total) {
    }
}
