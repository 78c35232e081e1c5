package dev.deputy.broker.registration;

import com.nimbusds.oauth2.sdk.ParseException;
import com.nimbusds.oauth2.sdk.util.JSONObjectUtils;
import com.nimbusds.openid.connect.sdk.rp.OIDCClientMetadata;
import dev.deputy.broker.agent.OAuthClient;
import io.micronaut.context.annotation.Value;
import jakarta.inject.Singleton;
import net.minidev.json.JSONObject;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * OAuth Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document): a {@code client_id} that is an
 * https URL names a JSON document of client metadata at that URL. Deputy fetches it through {@link SafeFetcher},
 * checks it ({@code client_id} equals the URL exactly, redirect URIs by {@link RedirectRules}, no shared secret:
 * {@code token_endpoint_auth_method} {@code none}), and caches a good document for its {@code Cache-Control: max-age}
 * (capped at a day). A failure is remembered briefly ({@code deputy.cimd.failure-cache}, default 30 s) so that a
 * slow or broken document host is not asked again on every request, and at most {@code deputy.cimd.max-concurrent}
 * fetches (default 16) run at once: beyond that a lookup is refused at once ({@code busy}) instead of queueing
 * requests behind slow hosts. The whole fetch, redirects included, has one deadline ({@code deputy.cimd.timeout},
 * 5 s). The client is public and external (the user consents).
 */
@Singleton
public class ClientIdMetadataDocuments {
    static final Duration MAX_CACHE = Duration.ofDays(1);
    private static final Pattern MAX_AGE = Pattern.compile("(?:^|,)\\s*max-age\\s*=\\s*\"?(\\d+)\"?", Pattern.CASE_INSENSITIVE);
    private static final int MAX_ENTRIES = 10_000;

    private final SafeFetcher fetcher;
    private final boolean allowLoopback;
    private final Clock clock;
    private final Map<String, Cached> cache = new ConcurrentHashMap<>();
    private final Map<String, Failed> failures = new ConcurrentHashMap<>();
    private final Semaphore fetches;
    private final long failureTtlMs;

    /** A document that passed every check. */
    public record Document(String clientId, String name, List<String> redirectUris, String applicationType) {
    }

    private record Cached(Document document, long until) {
    }

    private record Failed(String reason, String message, long until) {
    }

    /** Why a client_id URL was refused (audited as {@code reason}). */
    public static final class Rejected extends Exception {
        private final String reason;

        Rejected(String reason, String message) {
            super(message, null, false, false);
            this.reason = reason;
        }

        public String reason() {
            return reason;
        }
    }

    @jakarta.inject.Inject
    public ClientIdMetadataDocuments(@Value("${deputy.cimd.allow-loopback:false}") boolean allowLoopback,
                                     @Value("${deputy.cimd.timeout:5s}") Duration timeout,
                                     @Value("${deputy.cimd.max-concurrent:16}") int maxConcurrent,
                                     @Value("${deputy.cimd.failure-cache:30s}") Duration failureCache,
                                     dev.deputy.broker.net.FetchTrust trust) {
        // TLS trust: the JVM's CA set, plus DEPUTY_FETCH_TRUST_PEM when set (docs/mcp.md)
        this(new SafeFetcher(allowLoopback, trust.sslContext(), timeout), allowLoopback, Clock.systemUTC(), maxConcurrent,
                failureCache);
    }

    ClientIdMetadataDocuments(SafeFetcher fetcher, boolean allowLoopback, Clock clock, int maxConcurrent,
                              Duration failureCache) {
        this.fetcher = fetcher;
        this.allowLoopback = allowLoopback;
        this.clock = clock;
        this.fetches = new Semaphore(Math.max(1, maxConcurrent));
        this.failureTtlMs = failureCache.toMillis();
    }

    /** Whether a client_id is meant as a metadata document URL (so a failure is a CIMD failure, not "unknown"). */
    public static boolean looksLikeUrl(String clientId) {
        return clientId != null && (clientId.startsWith("https://") || clientId.startsWith("http://"));
    }

    public OAuthClient client(String tenantId, Document d) {
        return new OAuthClient(tenantId, d.clientId(), d.name(), d.redirectUris(), false, "none", null, "cimd", 0, 0);
    }

    /** The document this node holds for {@code clientId} now, never fetched here (the console's client pages). */
    public java.util.Optional<Document> cached(String clientId) {
        Cached c = cache.get(clientId);
        return c != null && c.until() > clock.millis() ? java.util.Optional.of(c.document()) : java.util.Optional.empty();
    }

    public Document resolve(String clientId) throws Rejected {
        URI url = checkUrl(clientId);
        long now = clock.millis();
        Cached c = cache.get(clientId);
        if (c != null && c.until() > now) {
            return c.document();
        }
        Failed failed = failures.get(clientId);
        if (failed != null && failed.until() > now) {
            throw new Rejected(failed.reason(), failed.message());
        }
        if (!fetches.tryAcquire()) {
            // not cached as a failure: the document may well be fine
            throw new Rejected("busy", "too many client metadata documents are being fetched; try again");
        }
        Document d;
        SafeFetcher.Fetched f;
        try {
            try {
                f = fetcher.get(url);
            } catch (SafeFetcher.FetchException e) {
                throw new Rejected(e.reason(), e.getMessage());
            }
            if (f.status() != 200) {
                throw new Rejected("http_status", "the document answered HTTP " + f.status());
            }
            d = parse(clientId, new String(f.body(), StandardCharsets.UTF_8));
        } catch (Rejected e) {
            remember(failures, clientId, new Failed(e.reason(), e.getMessage(), clock.millis() + failureTtlMs), now);
            throw e;
        } finally {
            fetches.release();
        }
        failures.remove(clientId);
        long maxAge = maxAge(f.headers().get("cache-control"));
        if (maxAge > 0) {
            if (cache.size() >= MAX_ENTRIES) {
                cache.values().removeIf(x -> x.until() <= now);
                if (cache.size() >= MAX_ENTRIES) {
                    cache.clear();
                }
            }
            cache.put(clientId, new Cached(d, now + Math.min(maxAge * 1000, MAX_CACHE.toMillis())));
        } else {
            cache.remove(clientId);
        }
        return d;
    }

    /** CIMD §3: an https URL with a path, no fragment, no user info, no dot segments (http to loopback only in tests). */
    URI checkUrl(String clientId) throws Rejected {
        if (clientId.length() > 255) {
            throw new Rejected("bad_url", "client_id URLs are at most 255 characters here");
        }
        URI u;
        try {
            u = new URI(clientId);
        } catch (Exception e) {
            throw new Rejected("bad_url", "client_id is not a URL");
        }
        String scheme = u.getScheme() == null ? "" : u.getScheme().toLowerCase(Locale.ROOT);
        boolean loopbackHttp = "http".equals(scheme) && allowLoopback && RedirectRules.isLoopbackHost(u.getHost());
        if (!"https".equals(scheme) && !loopbackHttp) {
            throw new Rejected("not_https", "a client_id URL must be https");
        }
        if (u.getHost() == null || u.getRawUserInfo() != null || u.getRawFragment() != null) {
            throw new Rejected("bad_url", "a client_id URL has a host, and no user info or fragment");
        }
        String path = u.getRawPath();
        if (path == null || path.isEmpty() || path.equals("/")) {
            throw new Rejected("bad_url", "a client_id URL must have a path");
        }
        for (String seg : path.split("/")) {
            if (seg.equals(".") || seg.equals("..")) {
                throw new Rejected("bad_url", "a client_id URL must not contain dot segments");
            }
        }
        return u;
    }

    static Document parse(String clientId, String body) throws Rejected {
        JSONObject json;
        try {
            json = JSONObjectUtils.parse(body);
        } catch (ParseException e) {
            throw new Rejected("malformed_document", "the document is not a JSON object");
        }
        // CIMD §4.1: the client_id in the document MUST equal the document's URL (simple string comparison)
        if (!clientId.equals(json.get("client_id"))) {
            throw new Rejected("client_id_mismatch", "the document's client_id differs from its URL");
        }
        // CIMD §4.1: no shared secrets — client_secret and client_secret_expires_at MUST NOT appear
        if (json.containsKey("client_secret") || json.containsKey("client_secret_expires_at")) {
            throw new Rejected("client_secret", "a metadata document must not carry a client secret");
        }
        Object method = json.get("token_endpoint_auth_method");
        if (method != null && String.valueOf(method).startsWith("client_secret_")) {
            throw new Rejected("auth_method_forbidden", "client_secret_* authentication is not possible for a metadata document client");
        }
        if (method != null && !"none".equals(method)) {
            throw new Rejected("auth_method_unsupported", "only token_endpoint_auth_method none is supported for metadata document clients");
        }
        OIDCClientMetadata md;
        try {
            RedirectRules.checkSyntax(json.get("redirect_uris"));
            json.remove("client_id");
            md = OIDCClientMetadata.parse(json);
        } catch (RegistrationException e) {
            throw new Rejected(e.reason(), e.getMessage());
        } catch (ParseException e) {
            throw new Rejected("invalid_metadata", "the document's metadata is invalid: " + ClientRegistrations.clip(e.getMessage()));
        } catch (IllegalArgumentException e) {
            // Nimbus building its own error text from hostile input
            throw new Rejected("invalid_metadata", "the document's metadata holds a malformed value");
        }
        if (md.getGrantTypes() != null && md.getGrantTypes().stream().anyMatch(g -> !g.getValue().equals("authorization_code")
                && !g.getValue().equals("refresh_token"))) {
            throw new Rejected("grant_types", "grant_types must be authorization_code (and refresh_token)");
        }
        List<String> redirects = md.getRedirectionURIs() == null ? List.of()
                : md.getRedirectionURIs().stream().map(URI::toString).toList();
        String type;
        try {
            type = RedirectRules.check(redirects, md.getApplicationType() == null ? null
                    : md.getApplicationType().toString(), null);
        } catch (RegistrationException e) {
            throw new Rejected(e.reason(), e.getMessage());
        }
        String name = md.getName();
        if (name == null || name.isBlank()) {
            name = URI.create(clientId).getHost();
        }
        if (name.length() > 200) {
            name = name.substring(0, 200);
        }
        return new Document(clientId, name, redirects, type);
    }

    static long maxAge(String cacheControl) {
        if (cacheControl == null) {
            return 0;
        }
        String cc = cacheControl.toLowerCase(Locale.ROOT);
        if (cc.contains("no-store") || cc.contains("no-cache") || cc.contains("private")) {
            return 0;
        }
        Matcher m = MAX_AGE.matcher(cc);
        if (!m.find()) {
            return 0;
        }
        try {
            return Long.parseLong(m.group(1));
        } catch (NumberFormatException e) {
            return MAX_CACHE.toSeconds();
        }
    }

    private static <V> void remember(Map<String, V> map, String key, V value, long now) {
        if (map.size() >= MAX_ENTRIES) {
            map.clear(); // bounded: a flood of distinct URLs cannot grow it without limit
        }
        map.put(key, value);
    }

    /** Forgets cached documents and failures (tests; an admin who wants a document re-read now). */
    public void clearCache() {
        cache.clear();
        failures.clear();
    }
}
