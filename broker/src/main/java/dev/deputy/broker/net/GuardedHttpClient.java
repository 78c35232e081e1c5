package dev.deputy.broker.net;

import org.apache.hc.client5.http.DnsResolver;
import org.apache.hc.client5.http.classic.methods.HttpGet;
import org.apache.hc.client5.http.config.ConnectionConfig;
import org.apache.hc.client5.http.config.RequestConfig;
import org.apache.hc.client5.http.config.TlsConfig;
import org.apache.hc.client5.http.impl.DefaultSchemePortResolver;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.client5.http.impl.io.ManagedHttpClientConnectionFactory;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManagerBuilder;
import org.apache.hc.client5.http.impl.routing.DefaultRoutePlanner;
import org.apache.hc.client5.http.ssl.DefaultClientTlsStrategy;
import org.apache.hc.client5.http.ssl.DefaultHostnameVerifier;
import org.apache.hc.client5.http.ssl.HostnameVerificationPolicy;
import org.apache.hc.core5.http.ClassicHttpResponse;
import org.apache.hc.core5.http.Header;
import org.apache.hc.core5.http.HttpEntity;
import org.apache.hc.core5.http.config.Http1Config;
import org.apache.hc.core5.util.Timeout;

import javax.net.ssl.SSLContext;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Predicate;

/**
 * An HTTP GET client for URLs named by untrusted parties, closed to DNS rebinding: each connection resolves the host
 * name once, through {@link CheckedDnsResolver}, which refuses the whole answer unless every address passes the
 * address check, and the socket connects only to the addresses of that answer (Apache HttpClient's connection operator
 * takes them from the resolver and never resolves again). TLS is negotiated with the URL's host name: SNI carries it
 * and the certificate is verified against it (the JDK's HTTPS endpoint identification and HttpClient's
 * {@link DefaultHostnameVerifier}, both), never against the IP address.
 * <p>
 * Also: no HTTP proxy (the JVM's proxy settings are ignored, so no proxy resolves the name instead), no
 * redirects, no retries, no cookies, no authentication, no content decoding, no connection reuse; connect, TLS
 * handshake and each read bounded by the timeout, and the whole exchange by twice the timeout (the request is aborted
 * then); response headers capped at 100 lines of 8 KiB; the body capped by the caller.
 */
public final class GuardedHttpClient implements AutoCloseable {
    /** How a host name becomes addresses; {@link #SYSTEM_DNS} in production, a fixed answer in tests. */
    @FunctionalInterface
    public interface Lookup {
        InetAddress[] lookup(String host) throws UnknownHostException;
    }

    public static final Lookup SYSTEM_DNS = InetAddress::getAllByName;

    /** The host resolved to an address the check refuses; nothing was connected. */
    public static final class RefusedAddressException extends UnknownHostException {
        public RefusedAddressException(String message) {
            super(message);
        }
    }

    /** The body was larger than the cap; the connection was dropped without reading the rest. */
    public static final class TooLargeException extends IOException {
        public TooLargeException(String message) {
            super(message);
        }
    }

    /** A response: its status, its Content-Type (or null), and its body (read only for a 200). */
    public record Response(int status, String contentType, byte[] body) {
    }

    /**
     * Resolves once per connection and hands the connection operator only addresses that passed the check.
     * A refused or empty answer throws: the operator never falls back to another resolution.
     */
    static final class CheckedDnsResolver implements DnsResolver {
        private final Lookup lookup;
        private final Predicate<InetAddress> allowed;

        CheckedDnsResolver(Lookup lookup, Predicate<InetAddress> allowed) {
            this.lookup = lookup;
            this.allowed = allowed;
        }

        @Override
        public InetAddress[] resolve(String host) throws UnknownHostException {
            String bare = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
            InetAddress[] found = lookup.lookup(bare);
            if (found == null || found.length == 0) {
                throw new UnknownHostException(bare);
            }
            for (InetAddress a : found) {
                if (!allowed.test(a)) {
                    throw new RefusedAddressException(bare + " resolves to a refused address");
                }
            }
            return found.clone();
        }

        @Override
        public List<InetSocketAddress> resolve(String host, int port) throws UnknownHostException {
            List<InetSocketAddress> out = new ArrayList<>();
            for (InetAddress a : resolve(host)) {
                out.add(new InetSocketAddress(a, port));
            }
            return out;
        }

        @Override
        public String resolveCanonicalHostname(String host) {
            return host; // no reverse lookups
        }
    }

    private final CloseableHttpClient client;
    private final Duration timeout;

    /**
     * @param lookup  host name to addresses (once per connection)
     * @param allowed which resolved addresses may be connected to; one refused address refuses the host
     * @param tls     trust material for https (the JDK default in production)
     * @param timeout connect, TLS handshake and read timeout; the whole exchange gets twice this
     */
    public GuardedHttpClient(Lookup lookup, Predicate<InetAddress> allowed, SSLContext tls, Duration timeout,
                             String userAgent) {
        this.timeout = timeout;
        Timeout t = Timeout.of(timeout);
        var connections = PoolingHttpClientConnectionManagerBuilder.create()
                .setDnsResolver(new CheckedDnsResolver(lookup, allowed))
                .setTlsSocketStrategy(new DefaultClientTlsStrategy(tls, HostnameVerificationPolicy.BOTH,
                        new DefaultHostnameVerifier()))
                .setDefaultConnectionConfig(ConnectionConfig.custom().setConnectTimeout(t).setSocketTimeout(t).build())
                .setDefaultTlsConfig(TlsConfig.custom().setHandshakeTimeout(t).build())
                .setConnectionFactory(ManagedHttpClientConnectionFactory.builder()
                        .http1Config(Http1Config.custom().setMaxLineLength(8192).setMaxHeaderCount(100).build()).build())
                .setMaxConnTotal(256).setMaxConnPerRoute(8) // per host; a slow host cannot hold all of them
                .build();
        this.client = HttpClients.custom()
                .setConnectionManager(connections)
                .setRoutePlanner(new DefaultRoutePlanner(DefaultSchemePortResolver.INSTANCE)) // direct, never a proxy
                .setDefaultRequestConfig(RequestConfig.custom().setConnectionRequestTimeout(t).setResponseTimeout(t)
                        .setRedirectsEnabled(false).setAuthenticationEnabled(false).setContentCompressionEnabled(false)
                        .setExpectContinueEnabled(false).setProtocolUpgradeEnabled(false).build())
                .setConnectionReuseStrategy((request, response, context) -> false)
                .disableRedirectHandling().disableAutomaticRetries().disableCookieManagement().disableAuthCaching()
                .disableContentCompression()
                .setUserAgent(userAgent)
                .build();
    }

    /**
     * GET {@code uri}. A 200's body is read up to {@code maxBytes} ({@link TooLargeException} past it); any other
     * status comes back with an empty body, unread. The caller checks the URL's scheme and shape first.
     *
     * @throws RefusedAddressException the host resolves to an address {@code allowed} refuses
     * @throws UnknownHostException    the host does not resolve
     * @throws SocketTimeoutException  a timeout, or the whole exchange took longer than twice the timeout
     * @throws javax.net.ssl.SSLException TLS failed (including a certificate that does not name the host)
     */
    public Response get(URI uri, String accept, int maxBytes) throws IOException {
        HttpGet get = new HttpGet(uri);
        get.setHeader("Accept", accept);
        dev.deputy.connectors.UpstreamTracing.inject(get::setHeader); // W3C trace context of the current span, if any
        AtomicBoolean late = new AtomicBoolean();
        CompletableFuture<Void> deadline = CompletableFuture.runAsync(() -> {
            late.set(true);
            get.cancel(); // hard cancellation: closes the socket under a blocked connect, handshake or read
        }, CompletableFuture.delayedExecutor(2 * timeout.toMillis(), TimeUnit.MILLISECONDS));
        try {
            ClassicHttpResponse resp = client.executeOpen(null, get, null);
            boolean complete = false;
            try {
                Header type = resp.getFirstHeader("Content-Type");
                Response r = new Response(resp.getCode(), type == null ? null : type.getValue(),
                        resp.getCode() == 200 ? body(resp.getEntity(), maxBytes) : new byte[0]);
                complete = true;
                return r;
            } finally {
                if (!complete || resp.getCode() != 200) {
                    get.cancel(); // drop the connection: closing the response would read the rest of the body
                }
                resp.close();
            }
        } catch (IOException e) {
            if (late.get() && !(e instanceof TooLargeException)) {
                throw new SocketTimeoutException("no complete answer within " + 2 * timeout.toMillis() + " ms");
            }
            throw e;
        } finally {
            deadline.cancel(false);
        }
    }

    private static byte[] body(HttpEntity entity, int maxBytes) throws IOException {
        if (entity == null) {
            return new byte[0];
        }
        if (entity.getContentLength() > maxBytes) {
            throw new TooLargeException("the document is larger than " + maxBytes + " bytes");
        }
        // not closed here: closing reads the rest of the body; get() drops the connection when the cap is passed
        InputStream in = entity.getContent();
        byte[] body = in.readNBytes(maxBytes + 1);
        if (body.length > maxBytes) {
            throw new TooLargeException("the document is larger than " + maxBytes + " bytes");
        }
        return body;
    }

    @Override
    public void close() throws IOException {
        client.close();
    }
}
