package dev.deputy.broker.pki;

import dev.deputy.broker.config.DeputySettings;
import io.micronaut.context.annotation.Replaces;
import io.micronaut.context.annotation.Requires;
import io.micronaut.context.annotation.Value;
import io.micronaut.core.io.ResourceResolver;
import io.micronaut.http.server.HttpServerConfiguration;
import io.micronaut.http.server.netty.ssl.AbstractServerSslBuilder;
import io.micronaut.http.server.netty.ssl.CertificateProvidedSslBuilder;
import io.micronaut.http.ssl.ServerSslConfiguration;
import io.micronaut.http.ssl.SslConfiguration;
import io.micronaut.http.ssl.SslConfigurationException;
import io.micronaut.http.HttpVersion;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.OpenSslCachingX509KeyManagerFactory;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import jakarta.inject.Singleton;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.ManagerFactoryParameters;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.TrustManagerFactorySpi;
import javax.net.ssl.X509ExtendedTrustManager;
import java.net.Socket;
import java.security.KeyStore;
import java.security.cert.X509Certificate;

/**
 * The HTTPS listener's TLS context (replaces Micronaut's key-store based builder). It presents the broker's
 * server certificate ({@link ServerTls}) and, with {@code client-authentication: want}, asks for a client
 * certificate but lets ANY certificate through the handshake: the TLS stack still proves that the client holds
 * the certificate's private key (CertificateVerify), while chains, pins, validity and revocation are checked by
 * the broker per tenant and per agent (RFC 8705 §2.1 / §2.2), where the right CA and pins are known.
 *
 * <p>TLS implementation ({@code deputy.tls-provider}, env {@code DEPUTY_TLS_PROVIDER}): {@code jdk} (default), the
 * JDK's SSLEngine; or {@code openssl}, BoringSSL through netty-tcnative ({@link SslProvider#OPENSSL_REFCNT}: native
 * engines released by Netty's SslHandler when the connection closes, no finalizers), falling back to the JDK when
 * the native library does not load. The choice is logged at start ({@code TLS provider: ...}). Both take the same
 * key, the same accept-any trust manager, {@code want}, TLS 1.2 and 1.3. BoringSSL costs less CPU per request,
 * but its CertificateRequest offers only ECDSA P-256/P-384 and RSA signature algorithms, and netty-tcnative has no
 * way to add more: clients holding an Ed25519 certificate (which the agent CA issues) cannot authenticate with it.
 * Hence opt-in, for deployments whose agents use EC or RSA certificates (docs/agents-auth.md).
 */
@Singleton
@Replaces(CertificateProvidedSslBuilder.class)
@Requires(property = "micronaut.server.ssl.enabled", value = "true")
public class BrokerSslBuilder extends AbstractServerSslBuilder {
    private static final Logger LOG = LoggerFactory.getLogger(BrokerSslBuilder.class);
    private static final String[] PROTOCOLS = {"TLSv1.3", "TLSv1.2"};
    private final SslProvider provider;
    private final ServerSslConfiguration ssl;
    private final DeputySettings settings;
    private volatile ServerTls.Material material;

    public BrokerSslBuilder(HttpServerConfiguration server, ServerSslConfiguration ssl, ResourceResolver resolver,
                            DeputySettings settings, @Value("${deputy.tls-provider:jdk}") String tlsProvider) {
        super(resolver, server);
        this.provider = chooseProvider(tlsProvider);
        this.ssl = ssl;
        this.settings = settings;
    }

    @Override
    public ServerSslConfiguration getSslConfiguration() {
        return ssl;
    }

    /** The TLS implementation of the listener: {@code JDK} or {@code OPENSSL_REFCNT} (BoringSSL). */
    public SslProvider provider() {
        return provider;
    }

    static SslProvider chooseProvider(String wanted) {
        String w = wanted == null || wanted.isBlank() ? "jdk" : wanted.trim().toLowerCase(java.util.Locale.ROOT);
        if (!w.equals("openssl")) {
            if (!w.equals("jdk")) {
                throw new SslConfigurationException("deputy.tls-provider must be jdk or openssl, not " + wanted);
            }
            LOG.info("TLS provider: JDK");
            return SslProvider.JDK;
        }
        try {
            if (OpenSsl.isAvailable()) {
                LOG.info("TLS provider: {} (native, netty-tcnative)", OpenSsl.versionString());
                return SslProvider.OPENSSL_REFCNT;
            }
            LOG.info("TLS provider: JDK (netty-tcnative did not load: {})", String.valueOf(OpenSsl.unavailabilityCause()));
        } catch (Throwable t) {
            LOG.info("TLS provider: JDK (netty-tcnative unavailable: {})", t.toString());
        }
        return SslProvider.JDK;
    }

    @Override
    protected void processBuilder(SslContextBuilder builder, SslConfiguration config, HttpVersion httpVersion) {
        // whatever Micronaut's prefer-openssl default picked: the provider chosen (and logged) above
        builder.sslProvider(provider);
        if (config.getProtocols().isEmpty()) {
            builder.protocols(PROTOCOLS);
        }
    }

    @Override
    protected KeyManagerFactory getKeyManagerFactory(SslConfiguration config) {
        try {
            ServerTls.Material m = material();
            char[] pw = new char[0];
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            ks.setKeyEntry("server", m.key(), pw, m.chain());
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(ks, pw);
            // BoringSSL: convert the key to native form once, not on every handshake
            return provider == SslProvider.JDK ? kmf : new OpenSslCachingX509KeyManagerFactory(kmf);
        } catch (Exception e) {
            throw new SslConfigurationException(e);
        }
    }

    @Override
    protected TrustManagerFactory getTrustManagerFactory(SslConfiguration config) {
        return new AcceptAnyClient();
    }

    private ServerTls.Material material() {
        ServerTls.Material m = material;
        if (m == null) {
            m = ServerTls.loadOrCreate(settings);
            material = m;
        }
        return m;
    }

    /** A trust manager factory whose one trust manager accepts every client chain (see the class comment). */
    static final class AcceptAnyClient extends TrustManagerFactory {
        AcceptAnyClient() {
            super(new Spi(), null, "deputy-accept-any-client");
        }

        private static final class Spi extends TrustManagerFactorySpi {
            private static final TrustManager[] MANAGERS = {new AcceptAny()};

            @Override
            protected void engineInit(KeyStore ks) {
            }

            @Override
            protected void engineInit(ManagerFactoryParameters spec) {
            }

            @Override
            protected TrustManager[] engineGetTrustManagers() {
                return MANAGERS.clone();
            }
        }
    }

    /**
     * Accepts any client certificate at the TLS layer; the empty accepted-issuers list makes clients offer any
     * certificate they hold (a self-signed pinned one as much as a CA-issued one).
     */
    static final class AcceptAny extends X509ExtendedTrustManager {
        private static final X509Certificate[] NONE = new X509Certificate[0];

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) {
            // checked by the broker per agent (clientauth)
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) {
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) throws java.security.cert.CertificateException {
            throw new java.security.cert.CertificateException("server side only");
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
                throws java.security.cert.CertificateException {
            throw new java.security.cert.CertificateException("server side only");
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
                throws java.security.cert.CertificateException {
            throw new java.security.cert.CertificateException("server side only");
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return NONE;
        }
    }
}
