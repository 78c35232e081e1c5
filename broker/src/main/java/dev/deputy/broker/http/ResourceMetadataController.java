package dev.deputy.broker.http;

import dev.deputy.broker.agent.AgentStore;
import dev.deputy.broker.agent.Resource;
import dev.deputy.broker.config.PublicUrl;
import dev.deputy.broker.tenant.Tenant;
import dev.deputy.broker.tenant.Tenants;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.MediaType;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.PathVariable;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import io.micronaut.security.annotation.Secured;
import io.micronaut.security.rules.SecurityRule;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * RFC 9728 protected resource metadata for the tenant's registered resources, so an MCP server can point
 * {@code WWW-Authenticate: Bearer resource_metadata="<this URL>"} at Deputy instead of serving its own:
 * {@code GET /t/<tenant>/resources/<id>/.well-known/oauth-protected-resource}.
 */
@Controller
@Secured(SecurityRule.IS_ANONYMOUS)
@ExecuteOn(TaskExecutors.BLOCKING)
public class ResourceMetadataController {
    private static final com.fasterxml.jackson.databind.ObjectMapper JSON = new com.fasterxml.jackson.databind.ObjectMapper();
    private final Tenants tenants;
    private final AgentStore agents;
    private final PublicUrl publicUrl;

    public ResourceMetadataController(Tenants tenants, AgentStore agents, PublicUrl publicUrl) {
        this.tenants = tenants;
        this.agents = agents;
        this.publicUrl = publicUrl;
    }

    /** Where the PRM document of a resource is served. */
    public static String url(String issuer, String resourceId) {
        return issuer + "/resources/" + resourceId + "/.well-known/oauth-protected-resource";
    }

    @Get(uri = "/t/{tenant}/resources/{id}/.well-known/oauth-protected-resource", produces = MediaType.APPLICATION_JSON)
    public HttpResponse<?> metadata(@PathVariable String tenant, @PathVariable String id) {
        Tenant t = tenants.find(tenant).orElseThrow(() -> new UnknownTenantException(tenant));
        Resource r = agents.listResources(t.id()).stream().filter(x -> x.id().equals(id)).findFirst().orElse(null);
        if (r == null) {
            return HttpResponse.notFound(Map.of("error", "not_found", "error_description", "no such resource"))
                    .contentType(MediaType.APPLICATION_JSON_TYPE).header("Cache-Control", "no-store");
        }
        Map<String, Object> doc = new LinkedHashMap<>();
        // RFC 9728 §2: resource = the protected resource's identifier, as registered
        doc.put("resource", r.uri());
        // RFC 9728 §2 / RFC 8414 §3.3: the issuer byte for byte as it appears in the AS metadata
        doc.put("authorization_servers", List.of(publicUrl.issuer(t.id())));
        // offline_access is a property of a grant, not of the resource: never advertised here
        doc.put("scopes_supported", r.scopes().stream().filter(s -> !"offline_access".equals(s)).toList());
        doc.put("bearer_methods_supported", List.of("header"));
        if (r.name() != null) {
            doc.put("resource_name", r.name());
        }
        String body;
        try {
            body = JSON.writeValueAsString(doc);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        return HttpResponse.ok(body).contentType(MediaType.APPLICATION_JSON_TYPE).header("Cache-Control", "public, max-age=300");
    }
}
