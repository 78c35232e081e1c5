package dev.deputy.broker.http;

import dev.deputy.broker.keys.SigningKeys;
import dev.deputy.broker.metadata.MetadataService;
import dev.deputy.broker.tenant.Tenant;
import dev.deputy.broker.tenant.Tenants;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.MediaType;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.PathVariable;

/**
 * Discovery: RFC 8414 metadata at the path-inserted well-known URL, OpenID discovery at both the
 * path-inserted URL and {@code <issuer>/.well-known/openid-configuration}, and the tenant's JWKS.
 */
@Controller
public class DiscoveryController {
    private final Tenants tenants;
    private final MetadataService metadata;
    private final SigningKeys keys;

    public DiscoveryController(Tenants tenants, MetadataService metadata, SigningKeys keys) {
        this.tenants = tenants;
        this.metadata = metadata;
        this.keys = keys;
    }

    // RFC 8414 §3.1: path insertion — /.well-known/oauth-authorization-server/t/<tenant>
    @Get(uri = "/.well-known/oauth-authorization-server/t/{tenant}", produces = MediaType.APPLICATION_JSON)
    public HttpResponse<String> oauthMetadata(@PathVariable String tenant) {
        return json(metadata.oauth(tenant(tenant)), "public, max-age=300");
    }

    // Served at the issuer-appended location too, for clients that append instead of insert.
    @Get(uri = "/t/{tenant}/.well-known/oauth-authorization-server", produces = MediaType.APPLICATION_JSON)
    public HttpResponse<String> oauthMetadataAppended(@PathVariable String tenant) {
        return oauthMetadata(tenant);
    }

    @Get(uri = "/.well-known/openid-configuration/t/{tenant}", produces = MediaType.APPLICATION_JSON)
    public HttpResponse<String> openidInserted(@PathVariable String tenant) {
        return json(metadata.openid(tenant(tenant)), "public, max-age=300");
    }

    // OpenID Connect Discovery §4: <issuer>/.well-known/openid-configuration
    @Get(uri = "/t/{tenant}/.well-known/openid-configuration", produces = MediaType.APPLICATION_JSON)
    public HttpResponse<String> openidAppended(@PathVariable String tenant) {
        return openidInserted(tenant);
    }

    @Get(uri = "/t/{tenant}/jwks.json", produces = {"application/jwk-set+json", MediaType.APPLICATION_JSON})
    public HttpResponse<String> jwks(@PathVariable String tenant) {
        return HttpResponse.ok(keys.keys(tenant(tenant).id()).jwksJson())
                .contentType("application/jwk-set+json")
                .header("Cache-Control", "public, max-age=60");
    }

    private Tenant tenant(String id) {
        return tenants.find(id).orElseThrow(() -> new UnknownTenantException(id));
    }

    private static HttpResponse<String> json(String body, String cache) {
        return HttpResponse.ok(body).contentType(MediaType.APPLICATION_JSON_TYPE).header("Cache-Control", cache);
    }
}
