package dev.deputy.broker.clientauth;

import com.nimbusds.jose.jwk.JWKSet;
import dev.deputy.broker.config.BrokerFile;
import dev.deputy.broker.tenant.Tenants;
import jakarta.inject.Singleton;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Fetches the JWK Sets of agents registered by {@code jwks_uri} (RFC 7591 §2), with a cache, connect and read
 * timeouts, a size cap, no redirects, https only, and — against SSRF — refusal of loopback, private, link-local,
 * unique-local and other non-public addresses unless {@code private_key_jwt.jwks_uri_allow_private} (tests).
 */
@Singleton
public class JwksUriFetcher {
    /** A fetched set and when it was fetched (for the cache and the refetch-on-unknown-kid rate limit). */
    public record Fetched(JWKSet set, long fetchedAt) {
    }

    static final long MIN_REFETCH_MS = 30_000;

    private final BrokerFile.PrivateKeyJwt cfg;
    private final HttpClient http;
    private final Map<String, Fetched> cache = new ConcurrentHashMap<>();

    public JwksUriFetcher(Tenants tenants) {
        this.cfg = tenants.tree().broker().privateKeyJwt();
        this.http = HttpClient.newBuilder().connectTimeout(cfg.jwksUriTimeout())
                .followRedirects(HttpClient.Redirect.NEVER).build();
    }

    /** The cached set, fetched when absent or older than the cache TTL. */
    public JWKSet get(String uri) throws IOException {
        Fetched f = cache.get(uri);
        if (f != null && System.currentTimeMillis() - f.fetchedAt() < cfg.jwksUriCacheTtl().toMillis()) {
            return f.set();
        }
        return fetch(uri).set();
    }

    /** Fetches again when a key id is unknown (key rotation at the client), at most every 30 s per URI. */
    public JWKSet refresh(String uri) throws IOException {
        Fetched f = cache.get(uri);
        if (f != null && System.currentTimeMillis() - f.fetchedAt() < MIN_REFETCH_MS) {
            return f.set();
        }
        return fetch(uri).set();
    }

    public long fetchedAt(String uri) {
        Fetched f = cache.get(uri);
        return f == null ? 0 : f.fetchedAt();
    }

    private Fetched fetch(String uriString) throws IOException {
        URI uri = URI.create(uriString);
        check(uri);
        HttpRequest req = HttpRequest.newBuilder(uri).timeout(cfg.jwksUriTimeout())
                .header("Accept", "application/jwk-set+json, application/json").GET().build();
        try {
            HttpResponse<InputStream> resp = http.send(req, HttpResponse.BodyHandlers.ofInputStream());
            try (InputStream in = resp.body()) {
                if (resp.statusCode() != 200) {
                    throw new IOException("jwks_uri answered " + resp.statusCode());
                }
                byte[] body = in.readNBytes(cfg.jwksUriMaxBytes() + 1);
                if (body.length > cfg.jwksUriMaxBytes()) {
                    throw new IOException("jwks_uri document exceeds " + cfg.jwksUriMaxBytes() + " bytes");
                }
                JWKSet set = JWKSet.parse(new String(body, StandardCharsets.UTF_8));
                if (set.getKeys().stream().anyMatch(k -> k.isPrivate())) {
                    throw new IOException("jwks_uri document holds private keys");
                }
                Fetched f = new Fetched(set, System.currentTimeMillis());
                cache.put(uriString, f);
                return f;
            }
        } catch (java.text.ParseException e) {
            throw new IOException("jwks_uri document is not a JWK Set");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted");
        }
    }

    /** SSRF guard: scheme and every resolved address of the host. */
    void check(URI uri) throws IOException {
        boolean allowPrivate = cfg.jwksUriAllowPrivate();
        String scheme = uri.getScheme();
        if (!"https".equals(scheme) && !(allowPrivate && "http".equals(scheme))) {
            throw new IOException("jwks_uri must be https");
        }
        if (uri.getHost() == null || uri.getUserInfo() != null) {
            throw new IOException("jwks_uri has no usable host");
        }
        if (allowPrivate) {
            return;
        }
        try {
            for (InetAddress a : InetAddress.getAllByName(uri.getHost())) {
                if (!isPublic(a)) {
                    throw new IOException("jwks_uri resolves to a non-public address");
                }
            }
        } catch (UnknownHostException e) {
            throw new IOException("jwks_uri host does not resolve");
        }
    }

    static boolean isPublic(InetAddress a) {
        if (a.isLoopbackAddress() || a.isAnyLocalAddress() || a.isLinkLocalAddress() || a.isSiteLocalAddress()
                || a.isMulticastAddress()) {
            return false;
        }
        byte[] b = a.getAddress();
        if (b.length == 4) {
            int b0 = b[0] & 0xff;
            int b1 = b[1] & 0xff;
            return !(b0 == 0 || (b0 == 100 && b1 >= 64 && b1 <= 127) // RFC 6598 shared space
                    || (b0 == 192 && b1 == 0 && (b[2] & 0xff) == 0) || (b0 == 198 && (b1 == 18 || b1 == 19))
                    || b0 >= 240);
        }
        // IPv6 unique local fc00::/7; IPv4-mapped handled by InetAddress (returns Inet4Address)
        return (b[0] & 0xfe) != 0xfc;
    }
}
