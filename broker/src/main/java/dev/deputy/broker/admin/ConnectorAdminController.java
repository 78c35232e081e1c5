package dev.deputy.broker.admin;

import dev.deputy.broker.federation.TenantConnectors;
import dev.deputy.broker.http.RequestMetaFilter;
import dev.deputy.broker.http.UnknownTenantException;
import dev.deputy.broker.tenant.Tenants;
import dev.deputy.connectors.ConnectorTestReport;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.annotation.Body;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Delete;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.PathVariable;
import io.micronaut.http.annotation.Post;
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

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code /admin/t/{tenant}/connectors}: list, show, add (JSON connector map; {@code client_secret} is sealed
 * and never returned), test ({@code UpstreamConnector.test()}, every problem listed), enable, disable, remove.
 * Connectors from {@code config/} files are read-only here (409).
 */
@Tag(name = "Connectors", description = "Upstream identity providers (Okta, Auth0, Entra ID, Keycloak, any OIDC provider)")
@Controller("/admin/t/{tenant}/connectors")
@Secured(AdminTokenValidator.ROLE)
@ExecuteOn(TaskExecutors.BLOCKING)
class ConnectorAdminController {
    private final Tenants tenants;
    private final ConnectorAdmin connectors;
    private final AdminErrors errors;

    ConnectorAdminController(Tenants tenants, ConnectorAdmin connectors, AdminErrors errors) {
        this.tenants = tenants;
        this.connectors = connectors;
        this.errors = errors;
    }

    @Operation(operationId = "listConnectors", summary = "List connectors")
    @ApiResponse(responseCode = "200", description = "The connectors", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/ConnectorList")))
    @ApiResponse(responseCode = "401", description = "No admin token, or an expired or revoked one")
    @ApiResponse(responseCode = "404", description = "Unknown tenant or object", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @Get
    HttpResponse<?> list(@Parameter(description = "Tenant id", example = "demo") @PathVariable String tenant) {
        check(tenant);
        return AdminViews.ok(Map.of("connectors", connectors.list(tenant).stream().map(ConnectorAdmin::view).toList()));
    }

    @Operation(operationId = "getConnector", summary = "Show a connector")
    @ApiResponse(responseCode = "200", description = "The connector", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Connector")))
    @ApiResponse(responseCode = "401", description = "No admin token, or an expired or revoked one")
    @ApiResponse(responseCode = "404", description = "Unknown tenant or object", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @Get("/{id}")
    HttpResponse<?> show(@Parameter(description = "Tenant id", example = "demo") @PathVariable String tenant, @Parameter(description = "Connector id", example = "okta-corp") @PathVariable String id) {
        check(tenant);
        return connectors.entry(tenant, id).<HttpResponse<?>>map(e -> AdminViews.ok(ConnectorAdmin.view(e)))
                .orElseGet(() -> error(HttpStatus.NOT_FOUND, "not_found", "no connector '" + id + "'"));
    }

    @io.swagger.v3.oas.annotations.parameters.RequestBody(required = true, content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/ConnectorRequest")))
    @Operation(operationId = "addConnector", summary = "Add a connector (client_secret is sealed, never returned)")
    @ApiResponse(responseCode = "201", description = "The new connector", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Connector")))
    @ApiResponse(responseCode = "400", description = "Malformed or refused input; nothing changed", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @ApiResponse(responseCode = "401", description = "No admin token, or an expired or revoked one")
    @ApiResponse(responseCode = "404", description = "Unknown tenant or object", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @ApiResponse(responseCode = "409", description = "The current state does not allow it; nothing changed", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @Post
    HttpResponse<?> add(@Parameter(description = "Tenant id", example = "demo") @PathVariable String tenant, HttpRequest<?> request, @Body Map<String, Object> body,
                        Authentication auth) {
        check(tenant);
        try {
            TenantConnectors.Entry e = connectors.add(tenant, body, AdminContext.actor(auth), RequestMetaFilter.of(request));
            return AdminViews.respond(201, ConnectorAdmin.view(e));
        } catch (ConnectorAdmin.Refused e) {
            return refused(request, e);
        }
    }

    @Operation(operationId = "testConnector", summary = "Test a connector: discovery, keys, role mapping")
    @ApiResponse(responseCode = "200", description = "Every check and problem", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/ConnectorTest")))
    @ApiResponse(responseCode = "401", description = "No admin token, or an expired or revoked one")
    @ApiResponse(responseCode = "404", description = "Unknown tenant or object", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @Post("/{id}/test")
    HttpResponse<?> test(@Parameter(description = "Tenant id", example = "demo") @PathVariable String tenant, @Parameter(description = "Connector id", example = "okta-corp") @PathVariable String id, HttpRequest<?> request,
                         Authentication auth) {
        check(tenant);
        try {
            ConnectorTestReport r = connectors.test(tenant, id, AdminContext.actor(auth), RequestMetaFilter.of(request));
            return AdminViews.ok(ConnectorAdmin.report(id, r));
        } catch (ConnectorAdmin.Refused e) {
            return refused(request, e);
        }
    }

    @Operation(operationId = "enableConnector", summary = "Enable a connector")
    @ApiResponse(responseCode = "200", description = "The connector", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Connector")))
    @ApiResponse(responseCode = "401", description = "No admin token, or an expired or revoked one")
    @ApiResponse(responseCode = "404", description = "Unknown tenant or object", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @ApiResponse(responseCode = "409", description = "The current state does not allow it; nothing changed", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @Post("/{id}/enable")
    HttpResponse<?> enable(@Parameter(description = "Tenant id", example = "demo") @PathVariable String tenant, @Parameter(description = "Connector id", example = "okta-corp") @PathVariable String id, HttpRequest<?> request,
                           Authentication auth) {
        return setEnabled(tenant, id, true, request, auth);
    }

    @Operation(operationId = "disableConnector", summary = "Disable a connector")
    @ApiResponse(responseCode = "200", description = "The connector", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Connector")))
    @ApiResponse(responseCode = "401", description = "No admin token, or an expired or revoked one")
    @ApiResponse(responseCode = "404", description = "Unknown tenant or object", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @ApiResponse(responseCode = "409", description = "The current state does not allow it; nothing changed", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @Post("/{id}/disable")
    HttpResponse<?> disable(@Parameter(description = "Tenant id", example = "demo") @PathVariable String tenant, @Parameter(description = "Connector id", example = "okta-corp") @PathVariable String id, HttpRequest<?> request,
                            Authentication auth) {
        return setEnabled(tenant, id, false, request, auth);
    }

    @Operation(operationId = "removeConnector", summary = "Remove a connector")
    @ApiResponse(responseCode = "204", description = "Removed")
    @ApiResponse(responseCode = "401", description = "No admin token, or an expired or revoked one")
    @ApiResponse(responseCode = "404", description = "Unknown tenant or object", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @ApiResponse(responseCode = "409", description = "The current state does not allow it; nothing changed", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @Delete("/{id}")
    HttpResponse<?> remove(@Parameter(description = "Tenant id", example = "demo") @PathVariable String tenant, @Parameter(description = "Connector id", example = "okta-corp") @PathVariable String id, HttpRequest<?> request,
                           Authentication auth) {
        check(tenant);
        try {
            connectors.remove(tenant, id, AdminContext.actor(auth), RequestMetaFilter.of(request));
            return HttpResponse.noContent();
        } catch (ConnectorAdmin.Refused e) {
            return refused(request, e);
        }
    }

    private HttpResponse<?> setEnabled(String tenant, String id, boolean enabled, HttpRequest<?> request,
                                       Authentication auth) {
        check(tenant);
        try {
            TenantConnectors.Entry e = connectors.setEnabled(tenant, id, enabled, AdminContext.actor(auth),
                    RequestMetaFilter.of(request));
            return e == null ? HttpResponse.noContent() : AdminViews.ok(ConnectorAdmin.view(e));
        } catch (ConnectorAdmin.Refused e) {
            return refused(request, e);
        }
    }

    private void check(String tenant) {
        if (tenants.find(tenant).isEmpty()) {
            throw new UnknownTenantException(tenant);
        }
    }

    /** A refused change: the API's error JSON, and the refusal audited as every other admin API refusal. */
    private HttpResponse<?> refused(HttpRequest<?> request, ConnectorAdmin.Refused e) {
        errors.audit(request, request.getMethodName(), request.getPath(), e.code(), e.status(), e.getMessage());
        return error(HttpStatus.valueOf(e.status()), e.code(), e.getMessage());
    }

    private static HttpResponse<?> error(HttpStatus status, String code, String description) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("error", code);
        body.put("error_description", AdminErrors.describable(description));
        return AdminViews.respond(status.getCode(), body);
    }
}
