package dev.deputy.connectors;

import com.nimbusds.jose.util.DefaultResourceRetriever;
import com.nimbusds.jose.util.Resource;
import com.nimbusds.oauth2.sdk.ParseException;
import com.nimbusds.oauth2.sdk.util.JSONObjectUtils;
import net.minidev.json.JSONObject;
import com.nimbusds.openid.connect.sdk.op.OIDCProviderMetadata;
import dev.deputy.connectors.ConnectorException.Code;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.URI;
import java.net.URL;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/**
 * OIDC Discovery with timeouts, a response size cap and a TTL cache. A refresh failure keeps serving the
 * last good document (and logs a warning) so that an IdP blip does not break logins in flight.
 */
final class ProviderMetadataCache {

    private static final Logger log = LoggerFactory.getLogger(ProviderMetadataCache.class);

    private record Entry(OIDCProviderMetadata metadata, Instant fetchedAt) {}

    /** Parsed metadata plus the {@code issuer} string exactly as published (Nimbus cannot hold Entra's template). */
    record Fetched(OIDCProviderMetadata metadata, String issuer) {}

    private final String connectorId;
    private final URL url;
    private final ConnectorOptions options;
    private final DefaultResourceRetriever retriever;
    private final Consumer<String> issuerCheck;
    private final AtomicReference<Entry> cached = new AtomicReference<>();

    ProviderMetadataCache(String connectorId, String issuer, ConnectorOptions options, Consumer<String> issuerCheck) {
        this.connectorId = connectorId;
        this.url = wellKnown(issuer);
        this.options = options;
        this.issuerCheck = issuerCheck;
        this.retriever = new UpstreamTracing.Retriever((int) options.connectTimeout().toMillis(),
                (int) options.readTimeout().toMillis(), options.maxResponseBytes(), options.tracer(), connectorId);
    }

    /** OIDC Discovery §4: strip one terminating "/" from the issuer, then append the well-known path. */
    static URL wellKnown(String issuer) {
        String base = issuer.endsWith("/") ? issuer.substring(0, issuer.length() - 1) : issuer;
        try {
            return URI.create(base + "/.well-known/openid-configuration").toURL();
        } catch (IOException | IllegalArgumentException e) {
            throw new ConnectorException(Code.INVALID_CONFIG, "issuer does not form a valid discovery URL");
        }
    }

    URL url() {
        return url;
    }

    DefaultResourceRetriever retriever() {
        return retriever;
    }

    OIDCProviderMetadata get() {
        Entry e = cached.get();
        Instant now = options.clock().instant();
        if (e != null && e.fetchedAt().plus(options.metadataTtl()).isAfter(now)) {
            return e.metadata();
        }
        try {
            Fetched f = fetch();
            issuerCheck.accept(f.issuer());
            cached.set(new Entry(f.metadata(), now));
            return f.metadata();
        } catch (ConnectorException ex) {
            if (e != null && ex.code() == Code.DISCOVERY_FAILED) {
                log.warn("connector {}: discovery refresh failed ({}); serving cached metadata", connectorId, ex.getMessage());
                return e.metadata();
            }
            throw ex;
        }
    }

    /** Fetches and parses the discovery document without checking or caching it. */
    Fetched fetch() {
        Resource r;
        try {
            r = retriever.retrieveResource(url);
        } catch (IOException e) {
            throw new ConnectorException(Code.DISCOVERY_FAILED,
                    "discovery document unreachable at " + url + " (" + e.getClass().getSimpleName() + ")", e);
        }
        try {
            JSONObject json = JSONObjectUtils.parse(r.getContent());
            String issuer = JSONObjectUtils.getString(json, "issuer");
            // Entra multi-tenant metadata publishes "https://login.microsoftonline.com/{tenantid}/v2.0", which is not
            // a valid URI; percent-encode the braces for Nimbus and keep the raw string for the issuer checks.
            json.put("issuer", issuer.replace("{", "%7B").replace("}", "%7D"));
            return new Fetched(OIDCProviderMetadata.parse(json), issuer);
        } catch (ParseException e) {
            throw new ConnectorException(Code.DISCOVERY_FAILED, "discovery document at " + url + " is not valid OIDC metadata", e);
        }
    }
}
