package dev.deputy.broker.admin;

import dev.deputy.broker.agent.AgentException;
import dev.deputy.broker.agent.Catalog;
import dev.deputy.broker.agent.Resource;
import dev.deputy.broker.http.RequestMetaFilter;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.MediaType;
import io.micronaut.http.annotation.Body;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Delete;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.PathVariable;
import io.micronaut.http.annotation.Post;
import io.micronaut.http.annotation.Put;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import io.micronaut.security.annotation.Secured;
import io.micronaut.security.authentication.Authentication;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.tags.Tag;

import java.util.List;
import java.util.Map;

/** {@code /admin/t/{tenant}/resources}: protected resources (MCP servers) by canonical URI. */
@Tag(name = "Resources", description = "Protected resources (MCP servers) by canonical URI")
@Controller("/admin/t/{tenant}/resources")
@Secured(AdminTokenValidator.ROLE)
@ExecuteOn(TaskExecutors.BLOCKING)
class ResourcesController {
    private final Catalog catalog;
    private final AdminContext ctx;

    ResourcesController(Catalog catalog, AdminContext ctx) {
        this.catalog = catalog;
        this.ctx = ctx;
    }


    /** JSON names the flag {@code default} (a Java keyword): mapped here. */
    record ResourceBody(String id, String uri, String name, List<String> scopes,
                        @com.fasterxml.jackson.annotation.JsonProperty("default") Boolean dflt) {
    }

    @Operation(operationId = "listResources", summary = "List resources")
    @ApiResponse(responseCode = "200", description = "The resources", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/ResourceList")))
    @ApiResponse(responseCode = "401", description = "No admin token, or an expired or revoked one")
    @ApiResponse(responseCode = "403", description = "No role for this in that tenant", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @ApiResponse(responseCode = "404", description = "Unknown tenant or object", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @Get(produces = MediaType.APPLICATION_JSON)
    HttpResponse<?> list(@Parameter(description = "Tenant id", example = "demo") @PathVariable String tenant) {
        return AdminViews.ok(Map.of("resources", catalog.resources(ctx.tenant(tenant)).stream().map(AdminViews::resource).toList()));
    }

    @Operation(operationId = "getResource", summary = "Show a resource")
    @ApiResponse(responseCode = "200", description = "The resource", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Resource")))
    @ApiResponse(responseCode = "401", description = "No admin token, or an expired or revoked one")
    @ApiResponse(responseCode = "403", description = "No role for this in that tenant", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @ApiResponse(responseCode = "404", description = "Unknown tenant or object", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @Get(uri = "/{id}", produces = MediaType.APPLICATION_JSON)
    HttpResponse<?> show(@Parameter(description = "Tenant id", example = "demo") @PathVariable String tenant, @Parameter(description = "Resource id", example = "payments.ledger") @PathVariable String id) {
        return AdminViews.ok(AdminViews.resource(catalog.resource(ctx.tenant(tenant), id)));
    }

    @io.swagger.v3.oas.annotations.parameters.RequestBody(required = true, content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/ResourceRequest")))
    @Operation(operationId = "createResource", summary = "Create a resource")
    @ApiResponse(responseCode = "201", description = "The new resource", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Resource")))
    @ApiResponse(responseCode = "400", description = "Malformed or refused input; nothing changed", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @ApiResponse(responseCode = "401", description = "No admin token, or an expired or revoked one")
    @ApiResponse(responseCode = "403", description = "No role for this in that tenant", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @ApiResponse(responseCode = "404", description = "Unknown tenant or object", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @ApiResponse(responseCode = "409", description = "The current state does not allow it; nothing changed", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @Post(consumes = MediaType.APPLICATION_JSON, produces = MediaType.APPLICATION_JSON)
    HttpResponse<?> create(@Parameter(description = "Tenant id", example = "demo") @PathVariable String tenant, @Nullable @Body String body, HttpRequest<?> request,
                           Authentication auth) {
        String t = ctx.tenant(tenant);
        ResourceBody r = AdminJson.read(body, ResourceBody.class, true);
        Resource res = catalog.createResource(t, new Resource(t, r.id(), r.uri(), r.name(), r.scopes(),
                Boolean.TRUE.equals(r.dflt()), "api"), AdminContext.actor(auth), RequestMetaFilter.of(request));
        return AdminViews.respond(201, AdminViews.resource(res));
    }

    @io.swagger.v3.oas.annotations.parameters.RequestBody(required = true, content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/ResourceRequest")))
    @Operation(operationId = "replaceResource", summary = "Replace a resource")
    @ApiResponse(responseCode = "200", description = "The resource", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Resource")))
    @ApiResponse(responseCode = "400", description = "Malformed or refused input; nothing changed", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @ApiResponse(responseCode = "401", description = "No admin token, or an expired or revoked one")
    @ApiResponse(responseCode = "403", description = "No role for this in that tenant", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @ApiResponse(responseCode = "404", description = "Unknown tenant or object", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @ApiResponse(responseCode = "409", description = "The current state does not allow it; nothing changed", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @Put(uri = "/{id}", consumes = MediaType.APPLICATION_JSON, produces = MediaType.APPLICATION_JSON)
    HttpResponse<?> replace(@Parameter(description = "Tenant id", example = "demo") @PathVariable String tenant, @Parameter(description = "Resource id", example = "payments.ledger") @PathVariable String id, @Nullable @Body String body,
                                HttpRequest<?> request, Authentication auth) {
        String t = ctx.tenant(tenant);
        ResourceBody r = AdminJson.read(body, ResourceBody.class, true);
        if (r.id() != null && !r.id().equals(id)) {
            throw AgentException.invalid("the id in the body differs from the one in the path");
        }
        return AdminViews.ok(AdminViews.resource(catalog.updateResource(t, new Resource(t, id, r.uri(), r.name(), r.scopes(),
                Boolean.TRUE.equals(r.dflt()), null), AdminContext.actor(auth), RequestMetaFilter.of(request))));
    }

    @Operation(operationId = "deleteResource", summary = "Delete a resource")
    @ApiResponse(responseCode = "204", description = "Deleted")
    @ApiResponse(responseCode = "401", description = "No admin token, or an expired or revoked one")
    @ApiResponse(responseCode = "403", description = "No role for this in that tenant", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @ApiResponse(responseCode = "404", description = "Unknown tenant or object", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @ApiResponse(responseCode = "409", description = "The current state does not allow it; nothing changed", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @Delete(uri = "/{id}")
    HttpResponse<?> delete(@Parameter(description = "Tenant id", example = "demo") @PathVariable String tenant, @Parameter(description = "Resource id", example = "payments.ledger") @PathVariable String id, HttpRequest<?> request,
                           Authentication auth) {
        catalog.deleteResource(ctx.tenant(tenant), id, AdminContext.actor(auth), RequestMetaFilter.of(request));
        return HttpResponse.noContent();
    }
}
