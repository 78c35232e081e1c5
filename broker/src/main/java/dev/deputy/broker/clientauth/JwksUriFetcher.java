package dev.deputy.broker.clientauth;

import com.nimbusds.jose.jwk.JWKSet;
import dev.deputy.broker.config.BrokerFile;
import dev.deputy.broker.net.GuardedHttpClient;
import dev.deputy.broker.net.PublicAddresses;
import dev.deputy.broker.tenant.Tenants;
import jakarta.annotation.PreDestroy;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.security.NoSuchAlgorithmException;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;

/**
 * Fetches the JWK Sets of agents registered by {@code jwks_uri} (RFC 7591 §2), with a cache, connect and read
 * timeouts, a size cap, no redirects, https only, and — against SSRF — refusal of loopback, private, link-local,
 * unique-local and other non-public addresses ({@link PublicAddresses}) unless
 * {@code private_key_jwt.jwks_uri_allow_private} (tests). The address check and the connection use one and the same
 * resolution of the host name ({@link GuardedHttpClient}): a DNS answer that changes between the check and the
 * connect (rebinding) cannot reach an address that was not checked, and TLS verifies the certificate against the
 * URI's host name.
 */
@Singleton
public class JwksUriFetcher {
    /** A fetched set and when it was fetched (for the cache and the refetch-on-unknown-kid rate limit). */
    public record Fetched(JWKSet set, long fetchedAt) {
    }

    static final long MIN_REFETCH_MS = 30_000;

    private final BrokerFile.PrivateKeyJwt cfg;
    private final GuardedHttpClient http;
    private final Map<String, Fetched> cache = new ConcurrentHashMap<>();
    /** Set once at wiring; a span per fetch when tracing is on. */
    private volatile dev.deputy.broker.tracing.Traces traces = dev.deputy.broker.tracing.Traces.OFF;

    @Inject
    public JwksUriFetcher(Tenants tenants, dev.deputy.broker.net.FetchTrust trust) {
        // TLS trust: the JVM's CA set, plus DEPUTY_FETCH_TRUST_PEM when set (docs/agents-auth.md)
        this(tenants.tree().broker().privateKeyJwt(), GuardedHttpClient.SYSTEM_DNS, null, trust.sslContext());
    }

    /**
     * @param lookup  host name to addresses (the system resolver in production)
     * @param allowed which addresses may be connected to; null = public only, or any with {@code jwks_uri_allow_private}
     * @param tls     trust material for https
     */
    JwksUriFetcher(BrokerFile.PrivateKeyJwt cfg, GuardedHttpClient.Lookup lookup, Predicate<InetAddress> allowed,
                   SSLContext tls) {
        this.cfg = cfg;
        Predicate<InetAddress> policy = allowed != null ? allowed
                : cfg.jwksUriAllowPrivate() ? a -> true : PublicAddresses::isPublic;
        this.http = new GuardedHttpClient(lookup, policy, tls, cfg.jwksUriTimeout(), "Deputy-JWKS/1");
    }

    private static SSLContext defaultTls() {
        try {
            return SSLContext.getDefault();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @PreDestroy
    void close() throws IOException {
        http.close();
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

    @Inject
    void traces(dev.deputy.broker.tracing.Traces traces) {
        this.traces = traces;
    }

    private Fetched fetch(String uriString) throws IOException {
        try (var step = traces.client("deputy.jwks_uri.fetch")) {
            try {
                return fetchNow(uriString, step);
            } catch (IOException | RuntimeException e) {
                step.refused(e.getMessage());
                throw e;
            }
        }
    }

    private Fetched fetchNow(String uriString, dev.deputy.broker.tracing.Traces.Step step) throws IOException {
        URI uri;
        try {
            uri = new URI(uriString);
        } catch (java.net.URISyntaxException e) {
            throw new IOException("jwks_uri is not a URI");
        }
        check(uri);
        step.attr("server.address", uri.getHost());
        GuardedHttpClient.Response resp;
        try {
            resp = http.get(uri, "application/jwk-set+json, application/json", cfg.jwksUriMaxBytes());
        } catch (GuardedHttpClient.RefusedAddressException e) {
            throw new IOException("jwks_uri resolves to a non-public address");
        } catch (UnknownHostException e) {
            throw new IOException("jwks_uri host does not resolve");
        } catch (GuardedHttpClient.TooLargeException e) {
            throw new IOException("jwks_uri document exceeds " + cfg.jwksUriMaxBytes() + " bytes");
        } catch (SocketTimeoutException e) {
            throw new IOException("jwks_uri timed out");
        } catch (SSLException e) {
            throw new IOException("jwks_uri TLS failed: " + e.getMessage());
        }
        step.attr("http.response.status_code", resp.status());
        if (resp.status() != 200) {
            throw new IOException("jwks_uri answered " + resp.status());
        }
        try {
            JWKSet set = JWKSet.parse(new String(resp.body(), StandardCharsets.UTF_8));
            if (set.getKeys().stream().anyMatch(k -> k.isPrivate())) {
                throw new IOException("jwks_uri document holds private keys");
            }
            Fetched f = new Fetched(set, System.currentTimeMillis());
            cache.put(uriString, f);
            return f;
        } catch (java.text.ParseException e) {
            throw new IOException("jwks_uri document is not a JWK Set");
        }
    }

    /**
     * Shape of the URI: https ({@code http} too with {@code jwks_uri_allow_private}), a host, no user info. The
     * addresses are checked by the resolver of {@link GuardedHttpClient}, on the answer the connection then uses.
     */
    static void check(URI uri, boolean allowPrivate) throws IOException {
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!"https".equals(scheme) && !(allowPrivate && "http".equals(scheme))) {
            throw new IOException("jwks_uri must be https");
        }
        if (uri.getHost() == null || uri.getRawUserInfo() != null) {
            throw new IOException("jwks_uri has no usable host");
        }
    }

    private void check(URI uri) throws IOException {
        check(uri, cfg.jwksUriAllowPrivate());
    }
}
