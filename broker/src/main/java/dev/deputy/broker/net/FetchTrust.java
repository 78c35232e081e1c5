package dev.deputy.broker.net;

import io.micronaut.context.annotation.Value;
import jakarta.inject.Singleton;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * The TLS trust of the broker's outbound fetches of documents named by others: Client ID Metadata Documents and
 * agents' {@code jwks_uri}. The JVM's CA set, plus the certificates of the PEM file named by
 * {@code DEPUTY_FETCH_TRUST_PEM} ({@code deputy.fetch.trust-pem}) when set: for a throw-away https server in local
 * CIMD tests, or a private CA, without replacing the JVM's CA set. Nothing else (upstream IdPs, Redis, MySQL) uses it.
 */
@Singleton
public class FetchTrust {
    private static final Logger LOG = LoggerFactory.getLogger(FetchTrust.class);
    private final SSLContext context;
    private final int extra;

    /**
     * Reads the PEM file now (a bad one stops the start with its message), but builds the SSL context on the first
     * fetch: loading the JVM's CA set (~150 certificates from cacerts) cost ~5% of a start, and most brokers never
     * fetch a CIMD document or a jwks_uri.
     */
    public FetchTrust(@Value("${deputy.fetch.trust-pem:}") String pemFile) {
        if (pemFile == null || pemFile.isBlank()) {
            this.context = lazy(() -> {
                try {
                    return SSLContext.getDefault();
                } catch (GeneralSecurityException e) {
                    throw new IllegalStateException("the JVM's default TLS context: " + e.getMessage(), e);
                }
            });
            this.extra = 0;
            return;
        }
        List<X509Certificate> added = read(Path.of(pemFile.strip()));
        this.context = lazy(() -> {
            try {
                return context(added);
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("DEPUTY_FETCH_TRUST_PEM: " + e.getMessage(), e);
            }
        });
        this.extra = added.size();
        LOG.info("outbound fetches (CIMD, jwks_uri) also trust {} certificate(s) from {}", added.size(), pemFile.strip());
    }

    /** The SSL context of CIMD and jwks_uri fetches (its trust material is loaded on first use). */
    public SSLContext sslContext() {
        return context;
    }

    /**
     * An SSL context whose every operation is that of the context {@code real} makes, made once on the first
     * operation. The consumers (SafeFetcher, GuardedHttpClient) hold the context from their construction and only
     * ask it for socket factories when they connect.
     */
    static SSLContext lazy(java.util.function.Supplier<SSLContext> real) {
        return new SSLContext(new LazySpi(real), java.security.Security.getProvider("SunJSSE"), "TLS") {
        };
    }

    private static final class LazySpi extends javax.net.ssl.SSLContextSpi {
        private final java.util.function.Supplier<SSLContext> make;
        private volatile SSLContext real;

        LazySpi(java.util.function.Supplier<SSLContext> make) {
            this.make = make;
        }

        private SSLContext real() {
            SSLContext r = real;
            if (r == null) {
                synchronized (this) {
                    r = real;
                    if (r == null) {
                        r = make.get();
                        real = r;
                    }
                }
            }
            return r;
        }

        @Override
        protected void engineInit(javax.net.ssl.KeyManager[] km, TrustManager[] tm, java.security.SecureRandom sr) {
            throw new UnsupportedOperationException("the fetch trust context is initialised already");
        }

        @Override
        protected javax.net.ssl.SSLSocketFactory engineGetSocketFactory() {
            return real().getSocketFactory();
        }

        @Override
        protected javax.net.ssl.SSLServerSocketFactory engineGetServerSocketFactory() {
            return real().getServerSocketFactory();
        }

        @Override
        protected javax.net.ssl.SSLEngine engineCreateSSLEngine() {
            return real().createSSLEngine();
        }

        @Override
        protected javax.net.ssl.SSLEngine engineCreateSSLEngine(String host, int port) {
            return real().createSSLEngine(host, port);
        }

        @Override
        protected javax.net.ssl.SSLSessionContext engineGetServerSessionContext() {
            return real().getServerSessionContext();
        }

        @Override
        protected javax.net.ssl.SSLSessionContext engineGetClientSessionContext() {
            return real().getClientSessionContext();
        }

        @Override
        protected javax.net.ssl.SSLParameters engineGetDefaultSSLParameters() {
            return real().getDefaultSSLParameters();
        }

        @Override
        protected javax.net.ssl.SSLParameters engineGetSupportedSSLParameters() {
            return real().getSupportedSSLParameters();
        }
    }

    /** How many certificates the PEM file added (0 when unset). */
    public int extraCertificates() {
        return extra;
    }

    static List<X509Certificate> read(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            Collection<? extends Certificate> certs = CertificateFactory.getInstance("X.509").generateCertificates(in);
            List<X509Certificate> out = new ArrayList<>();
            for (Certificate c : certs) {
                out.add((X509Certificate) c);
            }
            if (out.isEmpty()) {
                throw new IllegalStateException("DEPUTY_FETCH_TRUST_PEM: no certificate in " + file);
            }
            return out;
        } catch (IOException e) {
            throw new IllegalStateException("DEPUTY_FETCH_TRUST_PEM: cannot read " + file + ": " + e.getMessage(), e);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("DEPUTY_FETCH_TRUST_PEM: " + file + " holds no PEM certificates: "
                    + e.getMessage(), e);
        }
    }

    /** The JVM's default trust anchors and the added certificates, in one in-memory trust store. */
    static SSLContext context(List<X509Certificate> added) throws GeneralSecurityException {
        TrustManagerFactory jdk = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        jdk.init((KeyStore) null);
        KeyStore store = KeyStore.getInstance("PKCS12");
        try {
            store.load(null, null);
        } catch (IOException e) {
            throw new GeneralSecurityException(e);
        }
        int i = 0;
        for (TrustManager tm : jdk.getTrustManagers()) {
            if (tm instanceof X509TrustManager x) {
                for (X509Certificate c : x.getAcceptedIssuers()) {
                    store.setCertificateEntry("jdk-" + i++, c);
                }
            }
        }
        for (X509Certificate c : added) {
            store.setCertificateEntry("added-" + i++, c);
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(store);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, tmf.getTrustManagers(), null);
        return ctx;
    }
}
