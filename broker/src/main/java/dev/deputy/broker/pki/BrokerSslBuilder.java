package dev.deputy.broker.pki;

import dev.deputy.broker.config.DeputySettings;
import io.micronaut.context.annotation.Replaces;
import io.micronaut.context.annotation.Requires;
import io.micronaut.core.io.ResourceResolver;
import io.micronaut.http.server.HttpServerConfiguration;
import io.micronaut.http.server.netty.ssl.AbstractServerSslBuilder;
import io.micronaut.http.server.netty.ssl.CertificateProvidedSslBuilder;
import io.micronaut.http.ssl.ServerSslConfiguration;
import io.micronaut.http.ssl.SslConfiguration;
import io.micronaut.http.ssl.SslConfigurationException;
import jakarta.inject.Singleton;

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
 */
@Singleton
@Replaces(CertificateProvidedSslBuilder.class)
@Requires(property = "micronaut.server.ssl.enabled", value = "true")
public class BrokerSslBuilder extends AbstractServerSslBuilder {
    private final ServerSslConfiguration ssl;
    private final DeputySettings settings;
    private volatile ServerTls.Material material;

    public BrokerSslBuilder(HttpServerConfiguration server, ServerSslConfiguration ssl, ResourceResolver resolver,
                            DeputySettings settings) {
        super(resolver, server);
        this.ssl = ssl;
        this.settings = settings;
    }

    @Override
    public ServerSslConfiguration getSslConfiguration() {
        return ssl;
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
            return kmf;
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
