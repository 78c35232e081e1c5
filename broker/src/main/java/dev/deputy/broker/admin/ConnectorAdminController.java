package dev.deputy.broker.admin;

import dev.deputy.broker.agent.Catalog;
import dev.deputy.broker.audit.AuditEvent;
import dev.deputy.broker.audit.AuditLog;
import dev.deputy.broker.audit.EventTypes;
import dev.deputy.broker.federation.TenantConnectors;
import dev.deputy.broker.http.RequestMetaFilter;
import dev.deputy.broker.http.UnknownTenantException;
import dev.deputy.broker.tenant.Tenants;
import dev.deputy.connectors.ConnectorException;
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
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;

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
    private final TenantConnectors connectors;
    private final AuditLog audit;
    private final Catalog catalog;

    ConnectorAdminController(Tenants tenants, TenantConnectors connectors, AuditLog audit, Catalog catalog) {
        this.tenants = tenants;
        this.connectors = connectors;
        this.audit = audit;
        this.catalog = catalog;
    }

    @Operation(operationId = "listConnectors", summary = "List connectors")
    @ApiResponse(responseCode = "200", description = "The connectors", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/ConnectorList")))
    @ApiResponse(responseCode = "401", description = "No admin token, or an expired or revoked one")
    @ApiResponse(responseCode = "403", description = "No role for this in that tenant", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @ApiResponse(responseCode = "404", description = "Unknown tenant or object", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @Get
    HttpResponse<?> list(@Parameter(description = "Tenant id", example = "demo") @PathVariable String tenant) {
        check(tenant);
        return AdminViews.ok(Map.of("connectors", connectors.list(tenant).stream().map(ConnectorAdminController::view).toList()));
    }

    @Operation(operationId = "getConnector", summary = "Show a connector")
    @ApiResponse(responseCode = "200", description = "The connector", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Connector")))
    @ApiResponse(responseCode = "401", description = "No admin token, or an expired or revoked one")
    @ApiResponse(responseCode = "403", description = "No role for this in that tenant", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @ApiResponse(responseCode = "404", description = "Unknown tenant or object", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @Get("/{id}")
    HttpResponse<?> show(@Parameter(description = "Tenant id", example = "demo") @PathVariable String tenant, @Parameter(description = "Connector id", example = "okta-corp") @PathVariable String id) {
        check(tenant);
        return connectors.entry(tenant, id).<HttpResponse<?>>map(e -> AdminViews.ok(view(e)))
                .orElseGet(() -> error(HttpStatus.NOT_FOUND, "not_found", "no connector '" + id + "'"));
    }

    @io.swagger.v3.oas.annotations.parameters.RequestBody(required = true, content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/ConnectorRequest")))
    @Operation(operationId = "addConnector", summary = "Add a connector (client_secret is sealed, never returned)")
    @ApiResponse(responseCode = "201", description = "The new connector", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Connector")))
    @ApiResponse(responseCode = "400", description = "Malformed or refused input; nothing changed", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @ApiResponse(responseCode = "401", description = "No admin token, or an expired or revoked one")
    @ApiResponse(responseCode = "403", description = "No role for this in that tenant", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @ApiResponse(responseCode = "404", description = "Unknown tenant or object", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @ApiResponse(responseCode = "409", description = "The current state does not allow it; nothing changed", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @Post
    HttpResponse<?> add(@Parameter(description = "Tenant id", example = "demo") @PathVariable String tenant, HttpRequest<?> request, @Body Map<String, Object> body,
                        Authentication auth) {
        check(tenant);
        try {
            TenantConnectors.Entry e = connectors.add(tenant, body, null, System.currentTimeMillis());
            audit(tenant, request, auth, EventTypes.CONNECTOR_ADDED, e.id());
            return AdminViews.respond(201, view(e));
        } catch (ConnectorException e) {
            return error(HttpStatus.BAD_REQUEST, e.code().wire(), e.getMessage());
        } catch (IllegalArgumentException e) {
            return error(HttpStatus.BAD_REQUEST, "invalid_config", e.getMessage());
        } catch (IllegalStateException e) {
            return error(HttpStatus.CONFLICT, "conflict", e.getMessage());
        }
    }

    @Operation(operationId = "testConnector", summary = "Test a connector: discovery, keys, role mapping")
    @ApiResponse(responseCode = "200", description = "Every check and problem", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/ConnectorTest")))
    @ApiResponse(responseCode = "401", description = "No admin token, or an expired or revoked one")
    @ApiResponse(responseCode = "403", description = "No role for this in that tenant", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @ApiResponse(responseCode = "404", description = "Unknown tenant or object", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @Post("/{id}/test")
    HttpResponse<?> test(@Parameter(description = "Tenant id", example = "demo") @PathVariable String tenant, @Parameter(description = "Connector id", example = "okta-corp") @PathVariable String id, HttpRequest<?> request,
                         Authentication auth) {
        check(tenant);
        var entry = connectors.entry(tenant, id);
        if (entry.isEmpty()) {
            return error(HttpStatus.NOT_FOUND, "not_found", "no connector '" + id + "'");
        }
        ConnectorTestReport r = withRoleMapping(tenant, entry.get(), entry.get().connector().test());
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("id", id);
        body.put("ok", r.ok());
        body.put("checks", r.checks().stream().map(c -> {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", c.name());
            m.put("status", c.status().name().toLowerCase(java.util.Locale.ROOT));
            m.put("detail", c.detail());
            return m;
        }).toList());
        body.put("problems", r.problems().stream().map(c -> c.name() + ": " + c.detail()).toList());
        // the check names and the result; the details are the upstream's answers and stay in the response
        audit.append(AuditEvent.of(tenant, EventTypes.CONNECTOR_TESTED, r.ok() ? AuditEvent.Outcome.SUCCESS
                        : AuditEvent.Outcome.FAILURE).request(RequestMetaFilter.of(request)).detail("connector", id)
                .detail("actor", AdminContext.actor(auth).label()).detail("ok", r.ok()).detail("problems", r.problems().stream().map(c -> c.name()).toList()).build());
        return AdminViews.ok(body);
    }

    /**
     * Adds a {@code role_mapping} check: a mapping to a role the tenant does not have gives users no scopes (clients
     * then get a bare {@code invalid_scope}), so the test fails and names the missing roles.
     */
    private ConnectorTestReport withRoleMapping(String tenant, TenantConnectors.Entry e, ConnectorTestReport r) {
        Map<String, List<String>> mapping = e.connector().config().roleMapping();
        java.util.Set<String> known = new java.util.HashSet<>();
        catalog.roles(tenant).forEach(role -> known.add(role.name()));
        java.util.TreeSet<String> missing = new java.util.TreeSet<>();
        mapping.values().forEach(roles -> roles.stream().filter(role -> !known.contains(role)).forEach(missing::add));
        ConnectorTestReport.Check check;
        if (mapping.isEmpty()) {
            check = new ConnectorTestReport.Check("role_mapping", ConnectorTestReport.Status.WARN,
                    "no role_mapping: users of this connector get no roles, hence no scopes");
        } else if (missing.isEmpty()) {
            check = new ConnectorTestReport.Check("role_mapping", ConnectorTestReport.Status.OK,
                    mapping.size() + " upstream group(s) mapped to existing roles");
        } else {
            check = new ConnectorTestReport.Check("role_mapping", ConnectorTestReport.Status.FAIL,
                    "role_mapping names roles this tenant does not have: " + String.join(", ", missing));
        }
        List<ConnectorTestReport.Check> checks = new java.util.ArrayList<>(r.checks());
        checks.add(check);
        return new ConnectorTestReport(r.connectorId(), checks);
    }

    @Operation(operationId = "enableConnector", summary = "Enable a connector")
    @ApiResponse(responseCode = "200", description = "The connector", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Connector")))
    @ApiResponse(responseCode = "401", description = "No admin token, or an expired or revoked one")
    @ApiResponse(responseCode = "403", description = "No role for this in that tenant", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
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
    @ApiResponse(responseCode = "403", description = "No role for this in that tenant", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
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
    @ApiResponse(responseCode = "403", description = "No role for this in that tenant", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @ApiResponse(responseCode = "404", description = "Unknown tenant or object", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @ApiResponse(responseCode = "409", description = "The current state does not allow it; nothing changed", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @Delete("/{id}")
    HttpResponse<?> remove(@Parameter(description = "Tenant id", example = "demo") @PathVariable String tenant, @Parameter(description = "Connector id", example = "okta-corp") @PathVariable String id, HttpRequest<?> request,
                           Authentication auth) {
        check(tenant);
        try {
            connectors.remove(tenant, id);
            audit(tenant, request, auth, EventTypes.CONNECTOR_REMOVED, id);
            return HttpResponse.noContent();
        } catch (NoSuchElementException e) {
            return error(HttpStatus.NOT_FOUND, "not_found", e.getMessage());
        } catch (UnsupportedOperationException e) {
            return error(HttpStatus.CONFLICT, "managed_by_config", e.getMessage());
        }
    }

    private HttpResponse<?> setEnabled(String tenant, String id, boolean enabled, HttpRequest<?> request,
                                       Authentication auth) {
        check(tenant);
        try {
            connectors.setEnabled(tenant, id, enabled, System.currentTimeMillis());
            audit(tenant, request, auth, enabled ? EventTypes.CONNECTOR_ENABLED : EventTypes.CONNECTOR_DISABLED, id);
            return connectors.entry(tenant, id).<HttpResponse<?>>map(e -> AdminViews.ok(view(e)))
                    .orElseGet(HttpResponse::noContent);
        } catch (NoSuchElementException e) {
            return error(HttpStatus.NOT_FOUND, "not_found", e.getMessage());
        } catch (UnsupportedOperationException e) {
            return error(HttpStatus.CONFLICT, "managed_by_config", e.getMessage());
        } catch (IllegalArgumentException e) {
            return error(HttpStatus.CONFLICT, "conflict", e.getMessage());
        }
    }

    private void check(String tenant) {
        if (tenants.find(tenant).isEmpty()) {
            throw new UnknownTenantException(tenant);
        }
    }

    private void audit(String tenant, HttpRequest<?> request, Authentication auth, String type, String id) {
        audit.append(AuditEvent.of(tenant, type, AuditEvent.Outcome.SUCCESS).request(RequestMetaFilter.of(request))
                .detail("connector", id).detail("actor", AdminContext.actor(auth).label()).build());
    }

    /** What an admin may see: never the client secret or a private key. */
    static Map<String, Object> view(TenantConnectors.Entry e) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", e.id());
        m.put("type", e.type());
        m.put("display_name", e.displayName());
        m.put("issuer", e.connector().config().issuer());
        m.put("enabled", e.enabled());
        m.put("default", e.isDefault());
        m.put("managed_by", e.source());
        m.put("email_domains", e.connector().config().emailDomains());
        m.put("role_mapping", e.connector().config().roleMapping());
        m.put("config", e.config());
        return m;
    }

    private static HttpResponse<?> error(HttpStatus status, String code, String description) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("error", code);
        body.put("error_description", AdminErrors.describable(description));
        return AdminViews.respond(status.getCode(), body);
    }
}
