package dev.deputy.broker.clientauth;

import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsExchange;
import com.sun.net.httpserver.HttpsServer;
import dev.deputy.broker.config.BrokerFile;
import dev.deputy.broker.net.GuardedHttpClient;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import javax.net.ssl.ExtendedSSLSession;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SNIServerName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.math.BigInteger;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The jwks_uri fetcher against real servers on loopback (127.0.0.1 and 127.0.0.2, nothing else): the SSRF guard, the
 * pinning of the connection to the checked resolution (DNS rebinding), TLS against the host name, and the limits.
 * Host names under {@code deputy.test} reach loopback through the injected lookup, the stand-in for DNS.
 */
class JwksUriFetcherTest {
    static final String HOST = "jwks.deputy.test";
    static final InetAddress LOOPBACK = addr("127.0.0.1");
    /** Stands for a public address in the rebinding test: traffic must stay on loopback. */
    static final InetAddress STAND_IN_PUBLIC = addr("127.0.0.2");

    static ECKey key;
    static byte[] jwks;
    static SSLContext serverTls;
    static SSLContext clientTls;

    final List<AutoCloseable> open = new ArrayList<>();

    @BeforeAll
    static void material() throws Exception {
        key = new ECKeyGenerator(Curve.P_256).keyID("k1").generate();
        jwks = new JWKSet(key.toPublicJWK()).toString().getBytes(StandardCharsets.UTF_8);
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(256);
        KeyPair kp = g.generateKeyPair();
        X509Certificate cert = certificate(kp, HOST);
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        ks.setKeyEntry("server", kp.getPrivate(), "x".toCharArray(), new X509Certificate[]{cert});
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, "x".toCharArray());
        serverTls = SSLContext.getInstance("TLS");
        serverTls.init(kmf.getKeyManagers(), null, null);
        KeyStore ts = KeyStore.getInstance("PKCS12");
        ts.load(null, null);
        ts.setCertificateEntry("server", cert);
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(ts);
        clientTls = SSLContext.getInstance("TLS");
        clientTls.init(null, tmf.getTrustManagers(), null);
    }

    @AfterEach
    void closeAll() throws Exception {
        for (AutoCloseable c : open) {
            c.close();
        }
    }

    // ---- (1) the SSRF guard

    @Test
    void nameResolvingToLoopbackIsRefusedAndNothingConnects() throws Exception {
        Listener l = listener(LOOPBACK, 0);
        JwksUriFetcher f = fetcher(cfg(false), host -> new InetAddress[]{LOOPBACK}, null);
        IOException e = assertThrows(IOException.class, () -> f.get("https://" + HOST + ":" + l.port() + "/jwks.json"));
        assertEquals("jwks_uri resolves to a non-public address", e.getMessage());
        assertEquals(0, l.accepted.get());
    }

    @Test
    void productionResolverRefusesLoopbackAndPrivateNamesAndLiterals() throws Exception {
        Listener l = listener(LOOPBACK, 0);
        JwksUriFetcher f = fetcher(cfg(false), GuardedHttpClient.SYSTEM_DNS, null);
        for (String host : new String[]{"localhost", "127.0.0.1", "[::ffff:127.0.0.1]", "10.0.0.1", "169.254.169.254",
                "[::1]", "[fd00::1]", "0.0.0.0"}) {
            IOException e = assertThrows(IOException.class, () -> f.get("https://" + host + ":" + l.port() + "/jwks.json"));
            assertEquals("jwks_uri resolves to a non-public address", e.getMessage(), host);
        }
        assertEquals(0, l.accepted.get());
    }

    @Test
    void oneRefusedAddressRefusesTheHost() throws Exception {
        Listener l = listener(LOOPBACK, 0);
        JwksUriFetcher f = fetcher(cfg(false), host -> new InetAddress[]{STAND_IN_PUBLIC, LOOPBACK},
                a -> a.equals(STAND_IN_PUBLIC));
        assertThrows(IOException.class, () -> f.get("https://" + HOST + ":" + l.port() + "/jwks.json"));
        assertEquals(0, l.accepted.get());
    }

    @Test
    void httpAndUserInfoAreRefusedWithoutPrivateAddresses() throws Exception {
        Listener l = listener(LOOPBACK, 0);
        JwksUriFetcher f = fetcher(cfg(false), host -> new InetAddress[]{STAND_IN_PUBLIC}, a -> true);
        assertEquals("jwks_uri must be https",
                assertThrows(IOException.class, () -> f.get("http://" + HOST + ":" + l.port() + "/j")).getMessage());
        assertEquals("jwks_uri has no usable host",
                assertThrows(IOException.class, () -> f.get("https://u@" + HOST + ":" + l.port() + "/j")).getMessage());
        assertEquals(0, l.accepted.get());
    }

    // ---- (2) DNS rebinding: the connection goes to the address that was checked

    @Test
    void connectsToTheCheckedAddressNotToAReResolvedOne() throws Exception {
        // The check here admits only 127.0.0.2 (standing for a public address, as traffic must stay on loopback);
        // the "DNS" answers 127.0.0.2 once and 127.0.0.1 (the rebinding target) on every later question.
        Https good = https(STAND_IN_PUBLIC, 0);
        Listener evil = listenerOnSamePort(LOOPBACK, good);
        AtomicInteger lookups = new AtomicInteger();
        GuardedHttpClient.Lookup rebinding = host -> new InetAddress[]{
                lookups.getAndIncrement() == 0 ? STAND_IN_PUBLIC : LOOPBACK};
        JwksUriFetcher f = fetcher(cfg(false), rebinding, a -> a.equals(STAND_IN_PUBLIC));

        String uri = "https://" + HOST + ":" + good.port() + "/jwks.json";
        JWKSet set = f.get(uri);
        assertEquals("k1", set.getKeys().getFirst().getKeyID());
        assertEquals(1, lookups.get(), "one resolution per fetch: the checked one is the one connected to");
        assertEquals(1, good.requests.get());
        assertEquals(0, evil.accepted.get());

        // the next fetch resolves again: the rebound answer is checked and refused, and nothing connects to it
        IOException e = assertThrows(IOException.class, () -> f.get(uri + "?again"));
        assertEquals("jwks_uri resolves to a non-public address", e.getMessage());
        assertEquals(2, lookups.get());
        assertEquals(0, evil.accepted.get());
        assertEquals(1, good.requests.get());
    }

    // ---- (3) TLS: SNI and certificate verification against the host name, not the address

    @Test
    void tlsVerifiesTheHostNameNotTheAddress() throws Exception {
        Https server = https(LOOPBACK, 0);
        GuardedHttpClient.Lookup toLoopback = host -> {
            if (host.endsWith(".deputy.test")) {
                return new InetAddress[]{LOOPBACK};
            }
            return InetAddress.getAllByName(host);
        };
        JwksUriFetcher f = fetcher(cfg(true), toLoopback, null);

        assertEquals("k1", f.get("https://" + HOST + ":" + server.port() + "/jwks.json").getKeys().getFirst().getKeyID());
        assertEquals(List.of(new SNIHostName(HOST)), server.serverNames.getFirst());

        for (String wrong : new String[]{"other.deputy.test", "127.0.0.1"}) {
            IOException e = assertThrows(IOException.class,
                    () -> f.get("https://" + wrong + ":" + server.port() + "/jwks.json"), wrong);
            assertTrue(e.getMessage().startsWith("jwks_uri TLS failed"), e.getMessage());
        }
        assertEquals(1, server.requests.get());

        // and the JDK's trust store does not know the test certificate
        JwksUriFetcher defaultTrust = new JwksUriFetcher(cfg(true), toLoopback, null, SSLContext.getDefault());
        IOException e = assertThrows(IOException.class,
                () -> defaultTrust.get("https://" + HOST + ":" + server.port() + "/jwks.json"));
        assertTrue(e.getMessage().startsWith("jwks_uri TLS failed"), e.getMessage());
        defaultTrust.close();
    }

    // ---- what the fetcher kept: no redirects, the size cap, no private keys, timeouts, the cache and the rate limit

    @Test
    void redirectsAreNotFollowed() throws Exception {
        HttpServer s = http();
        AtomicInteger target = new AtomicInteger();
        s.createContext("/moved", ex -> {
            ex.getResponseHeaders().set("Location", "/jwks.json");
            ex.sendResponseHeaders(302, -1);
            ex.close();
        });
        s.createContext("/jwks.json", ex -> {
            target.incrementAndGet();
            send(ex, 200, jwks);
        });
        JwksUriFetcher f = fetcher(cfg(true), GuardedHttpClient.SYSTEM_DNS, null);
        IOException e = assertThrows(IOException.class, () -> f.get(base(s) + "/moved"));
        assertEquals("jwks_uri answered 302", e.getMessage());
        assertEquals(0, target.get());
    }

    @Test
    void sizeCapWithAndWithoutContentLength() throws Exception {
        byte[] big = ("{\"keys\":[],\"pad\":\"" + "x".repeat(3000) + "\"}").getBytes(StandardCharsets.US_ASCII);
        HttpServer s = http();
        s.createContext("/fixed", ex -> send(ex, 200, big));
        s.createContext("/chunked", ex -> {
            ex.sendResponseHeaders(200, 0);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(big);
            } catch (IOException ignored) {
                // the client hangs up at the cap
            }
        });
        JwksUriFetcher f = fetcher(new BrokerFile.PrivateKeyJwt(null, true, Duration.ofSeconds(2), 1024, null),
                GuardedHttpClient.SYSTEM_DNS, null);
        for (String path : new String[]{"/fixed", "/chunked"}) {
            IOException e = assertThrows(IOException.class, () -> f.get(base(s) + path), path);
            assertEquals("jwks_uri document exceeds 1024 bytes", e.getMessage());
        }
    }

    @Test
    void privateKeysAndNonSetsAreRefused() throws Exception {
        HttpServer s = http();
        s.createContext("/private", ex -> send(ex, 200, new JWKSet(key).toString(false).getBytes(StandardCharsets.UTF_8)));
        s.createContext("/html", ex -> send(ex, 200, "<html></html>".getBytes(StandardCharsets.US_ASCII)));
        JwksUriFetcher f = fetcher(cfg(true), GuardedHttpClient.SYSTEM_DNS, null);
        assertEquals("jwks_uri document holds private keys",
                assertThrows(IOException.class, () -> f.get(base(s) + "/private")).getMessage());
        assertEquals("jwks_uri document is not a JWK Set",
                assertThrows(IOException.class, () -> f.get(base(s) + "/html")).getMessage());
    }

    @Test
    void silentServerAndDripFeedTimeOut() throws Exception {
        Listener silent = listener(LOOPBACK, 0); // accepts and never answers
        ServerSocket drip = new ServerSocket(0, 50, LOOPBACK);
        open.add(drip);
        Thread.ofVirtual().start(() -> {
            while (!drip.isClosed()) {
                try (Socket c = drip.accept(); OutputStream out = c.getOutputStream()) {
                    out.write("HTTP/1.1 200 OK\r\nContent-Length: 900\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                    for (int i = 0; i < 900; i++) { // one byte each 100 ms: every read is within the timeout
                        out.write(' ');
                        out.flush();
                        Thread.sleep(100);
                    }
                } catch (IOException | InterruptedException ignored) {
                    // the client gave up
                }
            }
        });
        JwksUriFetcher f = fetcher(new BrokerFile.PrivateKeyJwt(null, true, Duration.ofMillis(400), null, null),
                GuardedHttpClient.SYSTEM_DNS, null);
        for (int port : new int[]{silent.port(), drip.getLocalPort()}) {
            long t0 = System.nanoTime();
            IOException e = assertThrows(IOException.class, () -> f.get("http://127.0.0.1:" + port + "/jwks.json"));
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertEquals("jwks_uri timed out", e.getMessage());
            assertTrue(ms < 2_000, "gave up after " + ms + " ms");
        }
    }

    @Test
    void cacheAndRefetchRateLimit() throws Exception {
        HttpServer s = http();
        AtomicInteger hits = new AtomicInteger();
        s.createContext("/jwks.json", ex -> {
            hits.incrementAndGet();
            send(ex, 200, jwks);
        });
        JwksUriFetcher f = fetcher(cfg(true), GuardedHttpClient.SYSTEM_DNS, null);
        String uri = base(s) + "/jwks.json";
        f.get(uri);
        f.get(uri);
        f.refresh(uri); // an unknown kid within 30 s of the last fetch does not refetch
        assertEquals(1, hits.get());
        assertTrue(f.fetchedAt(uri) > 0);
    }

    // ---- helpers

    static BrokerFile.PrivateKeyJwt cfg(boolean allowPrivate) {
        return new BrokerFile.PrivateKeyJwt(null, allowPrivate, Duration.ofSeconds(2), null, null);
    }

    JwksUriFetcher fetcher(BrokerFile.PrivateKeyJwt cfg, GuardedHttpClient.Lookup lookup, Predicate<InetAddress> allowed) {
        JwksUriFetcher f = new JwksUriFetcher(cfg, lookup, allowed, clientTls);
        open.add(f::close);
        return f;
    }

    /** A TCP listener that counts the connections it accepts and answers nothing. */
    record Listener(ServerSocket socket, AtomicInteger accepted) implements AutoCloseable {
        int port() {
            return socket.getLocalPort();
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    Listener listener(InetAddress at, int port) throws IOException {
        ServerSocket ss = new ServerSocket(port, 50, at);
        Listener l = new Listener(ss, new AtomicInteger());
        List<Socket> held = new CopyOnWriteArrayList<>();
        Thread.ofVirtual().start(() -> {
            while (!ss.isClosed()) {
                try {
                    held.add(ss.accept());
                    l.accepted.incrementAndGet();
                } catch (IOException e) {
                    return;
                }
            }
        });
        open.add(() -> {
            for (Socket s : held) {
                s.close();
            }
        });
        open.add(l);
        return l;
    }

    Listener listenerOnSamePort(InetAddress at, Https other) throws IOException {
        try {
            return listener(at, other.port());
        } catch (BindException e) {
            throw new IllegalStateException("port " + other.port() + " is taken on " + at, e);
        }
    }

    /** An HTTPS server with the certificate for {@link #HOST}, serving the set; it records SNI and counts requests. */
    record Https(HttpsServer server, AtomicInteger requests, List<List<SNIServerName>> serverNames) {
        int port() {
            return server.getAddress().getPort();
        }
    }

    Https https(InetAddress at, int port) throws IOException {
        HttpsServer s = HttpsServer.create(new InetSocketAddress(at, port), 0);
        s.setHttpsConfigurator(new HttpsConfigurator(serverTls));
        Https h = new Https(s, new AtomicInteger(), new CopyOnWriteArrayList<>());
        s.createContext("/jwks.json", ex -> {
            h.requests.incrementAndGet();
            h.serverNames.add(((ExtendedSSLSession) ((HttpsExchange) ex).getSSLSession()).getRequestedServerNames());
            send(ex, 200, jwks);
        });
        s.start();
        open.add(() -> s.stop(0));
        return h;
    }

    HttpServer http() throws IOException {
        HttpServer s = HttpServer.create(new InetSocketAddress(LOOPBACK, 0), 0);
        s.start();
        open.add(() -> s.stop(0));
        return s;
    }

    static String base(HttpServer s) {
        return "http://127.0.0.1:" + s.getAddress().getPort();
    }

    static void send(com.sun.net.httpserver.HttpExchange ex, int status, byte[] body) throws IOException {
        try (InputStream in = ex.getRequestBody()) {
            in.readAllBytes();
        }
        ex.getResponseHeaders().set("Content-Type", "application/jwk-set+json");
        ex.sendResponseHeaders(status, body.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(body);
        } catch (IOException ignored) {
            // the client hung up (size cap)
        }
    }

    static X509Certificate certificate(KeyPair kp, String dnsName) throws Exception {
        X500Name name = new X500Name("CN=" + dnsName);
        long now = System.currentTimeMillis();
        JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(name, BigInteger.valueOf(now), new Date(now - 60_000),
                new Date(now + 3_600_000), name, kp.getPublic());
        b.addExtension(Extension.subjectAlternativeName, false,
                new GeneralNames(new GeneralName(GeneralName.dNSName, dnsName)));
        return new JcaX509CertificateConverter().getCertificate(
                b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(kp.getPrivate())));
    }

    static InetAddress addr(String literal) {
        try {
            return InetAddress.getByName(literal);
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }
}
