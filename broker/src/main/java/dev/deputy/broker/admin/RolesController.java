package dev.deputy.broker.admin;

import dev.deputy.broker.agent.AgentException;
import dev.deputy.broker.agent.Catalog;
import dev.deputy.broker.agent.Role;
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

/**
 * {@code /admin/t/{tenant}/roles}: role templates (scopes, environment limits). Replacing or deleting a privileged
 * role ({@link PrivilegedRoles}) needs step-up.
 */
@Tag(name = "Roles", description = "Role templates: scopes and environment limits")
@Controller("/admin/t/{tenant}/roles")
@Secured(AdminTokenValidator.ROLE)
@ExecuteOn(TaskExecutors.BLOCKING)
class RolesController {
    private final Catalog catalog;
    private final AdminContext ctx;
    private final PrivilegedRoles privileged;

    RolesController(Catalog catalog, AdminContext ctx, PrivilegedRoles privileged) {
        this.catalog = catalog;
        this.ctx = ctx;
        this.privileged = privileged;
    }

    /** Replacing or deleting a privileged role is a privileged action (step-up), as granting it is. */
    private void checkPrivileged(String tenant, String name, Authentication auth, HttpRequest<?> request) {
        catalog.findRole(tenant, name).ifPresent(role -> privileged.requireForChange(
                AdminPrincipal.of(auth).orElseThrow(() -> AdminRefusal.forbidden("not an admin")), tenant, role,
                request.getMethodName() + " " + request.getPath()));
    }

    record RoleRequest(String name, String description, List<String> scopes, List<String> environments) {
    }

    @Operation(operationId = "listRoles", summary = "List roles")
    @ApiResponse(responseCode = "200", description = "The roles", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/RoleList")))
    @ApiResponse(responseCode = "401", description = "No admin token, or an expired or revoked one")
    @ApiResponse(responseCode = "403", description = "No role for this in that tenant", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @ApiResponse(responseCode = "404", description = "Unknown tenant or object", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @Get(produces = MediaType.APPLICATION_JSON)
    HttpResponse<?> list(@Parameter(description = "Tenant id", example = "demo") @PathVariable String tenant) {
        return AdminViews.ok(Map.of("roles", catalog.roles(ctx.tenant(tenant)).stream().map(AdminViews::role).toList()));
    }

    @Operation(operationId = "getRole", summary = "Show a role")
    @ApiResponse(responseCode = "200", description = "The role", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Role")))
    @ApiResponse(responseCode = "401", description = "No admin token, or an expired or revoked one")
    @ApiResponse(responseCode = "403", description = "No role for this in that tenant", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @ApiResponse(responseCode = "404", description = "Unknown tenant or object", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @Get(uri = "/{name}", produces = MediaType.APPLICATION_JSON)
    HttpResponse<?> show(@Parameter(description = "Tenant id", example = "demo") @PathVariable String tenant, @Parameter(description = "Role name", example = "payments.settler") @PathVariable String name) {
        return AdminViews.ok(AdminViews.role(catalog.role(ctx.tenant(tenant), name)));
    }

    @io.swagger.v3.oas.annotations.parameters.RequestBody(required = true, content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/RoleRequest")))
    @Operation(operationId = "createRole", summary = "Create a role")
    @ApiResponse(responseCode = "201", description = "The new role", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Role")))
    @ApiResponse(responseCode = "400", description = "Malformed or refused input; nothing changed", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @ApiResponse(responseCode = "401", description = "No admin token, or an expired or revoked one")
    @ApiResponse(responseCode = "403", description = "No role for this in that tenant", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @ApiResponse(responseCode = "404", description = "Unknown tenant or object", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @ApiResponse(responseCode = "409", description = "The current state does not allow it; nothing changed", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @Post(consumes = MediaType.APPLICATION_JSON, produces = MediaType.APPLICATION_JSON)
    HttpResponse<?> create(@Parameter(description = "Tenant id", example = "demo") @PathVariable String tenant, @Nullable @Body String body, HttpRequest<?> request,
                           Authentication auth) {
        String t = ctx.tenant(tenant);
        RoleRequest r = AdminJson.read(body, RoleRequest.class, true);
        Role role = catalog.createRole(t, new Role(t, r.name(), r.description(), r.scopes(), r.environments(), "api"),
                AdminContext.actor(auth), RequestMetaFilter.of(request));
        return AdminViews.respond(201, AdminViews.role(role));
    }

    @io.swagger.v3.oas.annotations.parameters.RequestBody(required = true, content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/RoleRequest")))
    @Operation(operationId = "replaceRole", summary = "Replace a role")
    @ApiResponse(responseCode = "200", description = "The role", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Role")))
    @ApiResponse(responseCode = "400", description = "Malformed or refused input; nothing changed", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @ApiResponse(responseCode = "401", description = "No admin token, an expired or revoked one, or (a privileged role, from the console) a step-up challenge")
    @ApiResponse(responseCode = "403", description = "Not allowed (role, CSRF), or a privileged role changed by an automation credential without the privileged capability", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @ApiResponse(responseCode = "404", description = "Unknown tenant or object", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @ApiResponse(responseCode = "409", description = "The current state does not allow it; nothing changed", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @Put(uri = "/{name}", consumes = MediaType.APPLICATION_JSON, produces = MediaType.APPLICATION_JSON)
    HttpResponse<?> replace(@Parameter(description = "Tenant id", example = "demo") @PathVariable String tenant, @Parameter(description = "Role name", example = "payments.settler") @PathVariable String name, @Nullable @Body String body,
                                HttpRequest<?> request, Authentication auth) {
        String t = ctx.tenant(tenant);
        RoleRequest r = AdminJson.read(body, RoleRequest.class, true);
        if (r.name() != null && !r.name().equals(name)) {
            throw AgentException.invalid("the name in the body differs from the one in the path");
        }
        checkPrivileged(t, name, auth, request);
        return AdminViews.ok(AdminViews.role(catalog.updateRole(t, new Role(t, name, r.description(), r.scopes(), r.environments(), null),
                AdminContext.actor(auth), RequestMetaFilter.of(request))));
    }

    @Operation(operationId = "deleteRole", summary = "Delete a role")
    @ApiResponse(responseCode = "204", description = "Deleted")
    @ApiResponse(responseCode = "401", description = "No admin token, an expired or revoked one, or (a privileged role, from the console) a step-up challenge")
    @ApiResponse(responseCode = "403", description = "Not allowed (role, CSRF), or a privileged role changed by an automation credential without the privileged capability", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @ApiResponse(responseCode = "404", description = "Unknown tenant or object", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @ApiResponse(responseCode = "409", description = "The current state does not allow it; nothing changed", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @Delete(uri = "/{name}")
    HttpResponse<?> delete(@Parameter(description = "Tenant id", example = "demo") @PathVariable String tenant, @Parameter(description = "Role name", example = "payments.settler") @PathVariable String name, HttpRequest<?> request,
                           Authentication auth) {
        checkPrivileged(ctx.tenant(tenant), name, auth, request);
        catalog.deleteRole(ctx.tenant(tenant), name, AdminContext.actor(auth), RequestMetaFilter.of(request));
        return HttpResponse.noContent();
    }
}
