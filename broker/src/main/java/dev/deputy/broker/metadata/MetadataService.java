package dev.deputy.broker.metadata;

import com.nimbusds.oauth2.sdk.as.AuthorizationServerMetadata;
import com.nimbusds.oauth2.sdk.id.Issuer;
import dev.deputy.broker.config.PublicUrl;
import dev.deputy.broker.tenant.Tenant;
import jakarta.inject.Singleton;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The tenant's authorization server metadata (RFC 8414), built once per tenant from the contributors and served as
 * a prepared string. There is no OpenID discovery document: Deputy issues no ID tokens (DiscoveryController).
 */
@Singleton
public class MetadataService {
    private final PublicUrl publicUrl;
    private final List<MetadataContributor> contributors;
    private final Map<String, String> oauthDocs = new ConcurrentHashMap<>();

    public MetadataService(PublicUrl publicUrl, List<MetadataContributor> contributors) {
        this.publicUrl = publicUrl;
        this.contributors = contributors;
    }

    public String oauth(Tenant tenant) {
        return oauthDocs.computeIfAbsent(tenant.id(), id -> write(build(tenant)));
    }


    private static final com.fasterxml.jackson.databind.ObjectMapper JSON = new com.fasterxml.jackson.databind.ObjectMapper();

    /** Plain JSON (no escaped slashes), so the issuer appears byte-for-byte as configured. */
    private static String write(Map<String, Object> json) {
        try {
            return JSON.writeValueAsString(json);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * The document as members in order: Nimbus's rendering, then what the contributors' {@code complete} add. Nimbus
     * renders into its {@code OrderedJSONObject}, which iterates only the keys that went through its own {@code put}:
     * a member added with another Map method ({@code putIfAbsent}, {@code merge}, ...) was silently left out of the
     * written document. The contributors therefore complete a plain ordered map.
     */
    public Map<String, Object> build(Tenant tenant) {
        String issuer = publicUrl.issuer(tenant.id());
        // RFC 8414 §3.3: issuer MUST be identical to the issuer identifier the metadata was requested for
        AuthorizationServerMetadata md = new AuthorizationServerMetadata(new Issuer(issuer));
        for (MetadataContributor c : contributors) {
            c.contribute(tenant, issuer, md);
        }
        Map<String, Object> json = new LinkedHashMap<>(md.toJSONObject());
        for (MetadataContributor c : contributors) {
            c.complete(tenant, json);
        }
        return json;
    }
}
