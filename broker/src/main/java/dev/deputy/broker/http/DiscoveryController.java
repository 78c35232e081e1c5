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
 * Discovery: RFC 8414 metadata at the path-inserted well-known URL (and appended, for lenient clients), and the
 * tenant's JWKS. No OpenID discovery document (Deputy issues no ID tokens).
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

    // No OpenID discovery document: Deputy issues no ID tokens, so it is not an OpenID Provider, and a document at
    // /.well-known/openid-configuration would have to claim what OpenID Connect Discovery 1.0 §3 REQUIRES of one
    // (id_token_signing_alg_values_supported, ...). Both OpenID paths answer 404 like any unknown path; MCP clients
    // try RFC 8414 (path inserted) first (MCP authorization, "Authorization Server Metadata Discovery").

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
