package dev.deputy.broker.oauth;

import dev.deputy.broker.config.BrokerFile;
import dev.deputy.broker.config.PublicUrl;
import dev.deputy.broker.tenant.Tenants;
import io.micronaut.context.env.Environment;
import jakarta.inject.Singleton;

import java.net.URI;
import java.net.URL;
import java.util.LinkedHashSet;
import java.util.Optional;
import java.util.Set;

/**
 * The URLs of the token, introspection and revocation endpoints of a tenant, on the public URL and, when the
 * HTTPS listener runs, their mTLS aliases (RFC 8705 §5). One place, so metadata, {@code aud} checks and the
 * request adapter agree byte for byte.
 */
@Singleton
public class Endpoints {
    private final PublicUrl publicUrl;
    private final Tenants tenants;
    private final Environment env;
    private volatile Optional<String> mtlsBase;

    public Endpoints(PublicUrl publicUrl, Tenants tenants, Environment env) {
        this.publicUrl = publicUrl;
        this.tenants = tenants;
        this.env = env;
    }

    public String issuer(String tenant) {
        return publicUrl.issuer(tenant);
    }

    public String token(String tenant) {
        return issuer(tenant) + "/token";
    }

    public String introspection(String tenant) {
        return issuer(tenant) + "/introspect";
    }

    public String revocation(String tenant) {
        return issuer(tenant) + "/revoke";
    }

    /** The base URL of the mTLS listener ({@code https://host:port}), or empty when TLS is off. */
    public Optional<String> mtlsBase() {
        Optional<String> b = mtlsBase;
        if (b == null) {
            b = computeMtlsBase();
            mtlsBase = b;
        }
        return b;
    }

    /** The issuer as seen on the mTLS listener: {@code <mtls base>/t/<tenant>}. */
    public Optional<String> mtlsIssuer(String tenant) {
        return mtlsBase().map(base -> base + "/t/" + tenant);
    }

    /** Where a request for {@code path} under the tenant arrived: the public URL or its mTLS alias. */
    public URI endpointUri(String tenant, String path, boolean secure) {
        String base = secure ? mtlsIssuer(tenant).orElse(issuer(tenant)) : issuer(tenant);
        return URI.create(base + path);
    }

    private record EndpointKey(String tenant, String path, boolean secure) {
    }

    /** {@link #endpointUrl}'s answers: a few per tenant and endpoint; at most {@value #MAX_URLS} kept. */
    private final java.util.concurrent.ConcurrentHashMap<EndpointKey, URL> urls = new java.util.concurrent.ConcurrentHashMap<>();
    private static final int MAX_URLS = 4096;

    /**
     * {@link #endpointUri} as a {@link URL} (what a Nimbus request holds), made once per tenant, path and listener: the
     * request adapter asks for it on every request, and parsing the URI and then the URL cost ~2% of an AuthZEN
     * decision's CPU (docs/benchmarks.md, session 11). A URL is immutable.
     */
    public URL endpointUrl(String tenant, String path, boolean secure) {
        EndpointKey key = new EndpointKey(tenant, path, secure);
        URL url = urls.get(key);
        if (url == null) {
            try {
                url = endpointUri(tenant, path, secure).toURL();
            } catch (java.net.MalformedURLException e) {
                throw new IllegalArgumentException(e.getMessage(), e);
            }
            if (urls.size() < MAX_URLS) {
                urls.putIfAbsent(key, url);
            }
        }
        return url;
    }

    /**
     * RFC 7523 §3: the {@code aud} values that identify this authorization server: the issuer, the token endpoint
     * and, since the same client authentication serves them, the introspection and revocation endpoints, on both
     * the public URL and the mTLS aliases.
     */
    public Set<String> audiences(String tenant) {
        Set<String> s = new LinkedHashSet<>();
        for (String iss : new String[]{issuer(tenant), mtlsIssuer(tenant).orElse(null)}) {
            if (iss != null) {
                s.add(iss);
                s.add(iss + "/token");
                s.add(iss + "/introspect");
                s.add(iss + "/revoke");
            }
        }
        return s;
    }

    private Optional<String> computeMtlsBase() {
        BrokerFile.Mtls mtls = tenants.tree().broker().mtls();
        if (mtls.publicUrl() != null) {
            String u = mtls.publicUrl();
            return Optional.of(u.endsWith("/") ? u.substring(0, u.length() - 1) : u);
        }
        if (!env.getProperty("micronaut.server.ssl.enabled", Boolean.class, false)) {
            return Optional.empty();
        }
        int port = httpsPort();
        String host = URI.create(publicUrl.base()).getHost();
        return Optional.of("https://" + host + (port == 443 ? "" : ":" + port));
    }

    /** The HTTPS listener's port ({@code micronaut.server.ssl.port}; a fixed port, also in tests). */
    public int httpsPort() {
        int configured = env.getProperty("micronaut.server.ssl.port", Integer.class, 8443);
        if (configured <= 0) {
            throw new IllegalStateException("micronaut.server.ssl.port must be a fixed port (DEPUTY_HTTPS_PORT)");
        }
        return configured;
    }
}
