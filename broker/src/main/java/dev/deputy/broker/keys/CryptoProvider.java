package dev.deputy.broker.keys;

import com.amazon.corretto.crypto.provider.AmazonCorrettoCryptoProvider;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.security.Provider;
import java.security.Security;

/**
 * The one JCA provider all signing and verification goes through: the Amazon Corretto Crypto Provider
 * (native AWS-LC, several times the JDK's EC speed) when its native library loads, else the JDK's own.
 * Set {@code DEPUTY_CRYPTO_PROVIDER=jdk} to force the JDK (for comparisons).
 */
public final class CryptoProvider {
    private static final Logger LOG = LoggerFactory.getLogger(CryptoProvider.class);
    private static final Provider PROVIDER = choose();

    private CryptoProvider() {
    }

    private static Provider choose() {
        if ("jdk".equalsIgnoreCase(System.getenv("DEPUTY_CRYPTO_PROVIDER"))
                || "jdk".equalsIgnoreCase(System.getProperty("deputy.crypto-provider"))) {
            LOG.info("crypto provider: JDK (forced)");
            return null;
        }
        try {
            AmazonCorrettoCryptoProvider accp = AmazonCorrettoCryptoProvider.INSTANCE;
            if (accp.getLoadingError() != null) {
                LOG.info("crypto provider: JDK (ACCP native library did not load: {})", accp.getLoadingError().toString());
                return null;
            }
            accp.assertHealthy();
            if (Security.getProvider(accp.getName()) == null) {
                AmazonCorrettoCryptoProvider.install();
            }
            LOG.info("crypto provider: {} {} (native)", accp.getName(), accp.getVersionStr());
            return accp;
        } catch (Throwable t) {
            LOG.info("crypto provider: JDK (ACCP unavailable: {})", t.toString());
            return null;
        }
    }

    /** The provider to hand to Nimbus signers and verifiers; null means the JDK default. */
    public static Provider get() {
        return PROVIDER;
    }

    public static String describe() {
        return PROVIDER == null ? "JDK" : PROVIDER.getName();
    }
}
