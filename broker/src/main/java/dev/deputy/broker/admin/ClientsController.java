package dev.deputy.broker.admin;

import dev.deputy.broker.agent.AgentException;
import dev.deputy.broker.agent.ClientSecrets;
import dev.deputy.broker.agent.ClientStore;
import dev.deputy.broker.agent.OAuthClient;
import dev.deputy.broker.audit.AuditEvent;
import dev.deputy.broker.audit.AuditTransactions;
import dev.deputy.broker.audit.EventTypes;
import dev.deputy.broker.http.RequestMetaFilter;
import dev.deputy.broker.registration.RedirectRules;
import dev.deputy.broker.registration.RegistrationException;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.MediaType;
import io.micronaut.http.annotation.Body;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Delete;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.Patch;
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

import java.security.SecureRandom;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code /admin/t/{tenant}/clients}: OAuth clients (MCP client apps) of every origin — config files, this API,
 * DCR. Admins pre-register clients here and mark any client internal (pre-approved: no consent) or external.
 * Config-managed clients change in their files only.
 */
@Tag(name = "Clients", description = "OAuth clients (MCP client apps): admin-registered, from config files, or by DCR")
@Controller("/admin/t/{tenant}/clients")
@Secured(AdminTokenValidator.ROLE)
@ExecuteOn(TaskExecutors.BLOCKING)
class ClientsController {
    private static final SecureRandom RANDOM = new SecureRandom();
    private final ClientStore clients;
    private final AuditTransactions audited;
    private final AdminContext ctx;
    private final ClientAdmin admin;

    ClientsController(ClientStore clients, AuditTransactions audited, AdminContext ctx, ClientAdmin admin) {
        this.clients = clients;
        this.audited = audited;
        this.ctx = ctx;
        this.admin = admin;
    }

    record ClientBody(String clientId, String name, List<String> redirectUris, Boolean internal,
                      String tokenEndpointAuthMethod) {
    }

    @Operation(operationId = "listClients", summary = "List clients")
    @ApiResponse(responseCode = "200", description = "The clients", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/ClientList")))
    @ApiResponse(responseCode = "401", description = "No admin token, or an expired or revoked one")
    @ApiResponse(responseCode = "403", description = "No role for this in that tenant", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @ApiResponse(responseCode = "404", description = "Unknown tenant or object", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @Get(produces = MediaType.APPLICATION_JSON)
    HttpResponse<?> list(@Parameter(description = "Tenant id", example = "demo") @PathVariable String tenant) {
        return AdminViews.ok(Map.of("clients", clients.list(ctx.tenant(tenant)).stream().map(ClientsController::view).toList()));
    }

    @Operation(operationId = "getClient", summary = "Show a client")
    @ApiResponse(responseCode = "200", description = "The client", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Client")))
    @ApiResponse(responseCode = "401", description = "No admin token, or an expired or revoked one")
    @ApiResponse(responseCode = "403", description = "No role for this in that tenant", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @ApiResponse(responseCode = "404", description = "Unknown tenant or object", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @Get(uri = "/{clientId}", produces = MediaType.APPLICATION_JSON)
    HttpResponse<?> show(@Parameter(description = "Tenant id", example = "demo") @PathVariable String tenant, @Parameter(description = "OAuth client id", example = "payments.settlement.dashboard") @PathVariable String clientId) {
        return AdminViews.ok(view(find(ctx.tenant(tenant), clientId)));
    }

    @io.swagger.v3.oas.annotations.parameters.RequestBody(required = true, content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/ClientCreate")))
    @Operation(operationId = "createClient", summary = "Register a client (the secret is shown once)")
    @ApiResponse(responseCode = "201", description = "The new client", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/CreatedClient")))
    @ApiResponse(responseCode = "400", description = "Malformed or refused input; nothing changed", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @ApiResponse(responseCode = "401", description = "No admin token, or an expired or revoked one")
    @ApiResponse(responseCode = "403", description = "No role for this in that tenant", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @ApiResponse(responseCode = "404", description = "Unknown tenant or object", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @ApiResponse(responseCode = "409", description = "The current state does not allow it; nothing changed", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @Post(consumes = MediaType.APPLICATION_JSON, produces = MediaType.APPLICATION_JSON)
    HttpResponse<?> create(@Parameter(description = "Tenant id", example = "demo") @PathVariable String tenant, @Nullable @Body String body, HttpRequest<?> request,
                           Authentication auth) {
        String t = ctx.tenant(tenant);
        ClientBody b = AdminJson.read(body, ClientBody.class, true);
        if (b.clientId() == null || !b.clientId().matches("[A-Za-z0-9._:-]{1,128}")) {
            throw AgentException.invalid("client_id is required: 1-128 of A-Z a-z 0-9 . _ : -");
        }
        if (clients.find(t, b.clientId()).isPresent()) {
            throw AgentException.conflict("client " + b.clientId() + " exists");
        }
        String method = b.tokenEndpointAuthMethod() == null ? "none" : b.tokenEndpointAuthMethod();
        if (!OAuthClient.AUTH_METHODS.contains(method)) {
            throw AgentException.invalid("token_endpoint_auth_method must be one of " + OAuthClient.AUTH_METHODS);
        }
        checkRedirects(b.redirectUris());
        String secret = "none".equals(method) ? null : random();
        long now = System.currentTimeMillis();
        OAuthClient c = new OAuthClient(t, b.clientId(), b.name() == null ? b.clientId() : b.name(), b.redirectUris(),
                Boolean.TRUE.equals(b.internal()), method, secret == null ? null : ClientSecrets.hash(secret), "api", now, now);
        audited.run(t, audit -> {
            clients.save(c);
            return audit.append(event(t, EventTypes.CLIENT_CREATED, c, auth, request));
        });
        Map<String, Object> v = view(c);
        v.put("client_secret", secret); // shown once (null for a public client); stored hashed
        return AdminViews.respond(201, v);
    }

    /** Partial update: {@code internal}, {@code name}, {@code redirect_uris}. */
    @io.swagger.v3.oas.annotations.parameters.RequestBody(required = true, content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/ClientPatch")))
    @Operation(operationId = "updateClient", summary = "Change a client (internal, name, redirect_uris)")
    @ApiResponse(responseCode = "200", description = "The client", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Client")))
    @ApiResponse(responseCode = "400", description = "Malformed or refused input; nothing changed", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @ApiResponse(responseCode = "401", description = "No admin token, or an expired or revoked one")
    @ApiResponse(responseCode = "403", description = "No role for this in that tenant", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @ApiResponse(responseCode = "404", description = "Unknown tenant or object", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @ApiResponse(responseCode = "409", description = "The current state does not allow it; nothing changed", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @Patch(uri = "/{clientId}", consumes = MediaType.APPLICATION_JSON, produces = MediaType.APPLICATION_JSON)
    HttpResponse<?> patch(@Parameter(description = "Tenant id", example = "demo") @PathVariable String tenant, @Parameter(description = "OAuth client id", example = "payments.settlement.dashboard") @PathVariable String clientId, @Nullable @Body String body,
                          HttpRequest<?> request, Authentication auth) {
        String t = ctx.tenant(tenant);
        OAuthClient old = find(t, clientId);
        if ("config".equals(old.managedBy())) {
            throw AgentException.conflict("client " + clientId + " is managed by a config file: change the file");
        }
        ClientBody b = AdminJson.read(body, ClientBody.class, true);
        if (b.clientId() != null && !b.clientId().equals(clientId)) {
            throw AgentException.invalid("client_id cannot change");
        }
        if (b.tokenEndpointAuthMethod() != null && !b.tokenEndpointAuthMethod().equals(old.authMethod())) {
            throw AgentException.invalid("token_endpoint_auth_method cannot change");
        }
        if (b.redirectUris() != null) {
            checkRedirects(b.redirectUris());
        }
        OAuthClient c = new OAuthClient(t, clientId, b.name() != null ? b.name() : old.name(),
                b.redirectUris() != null ? b.redirectUris() : old.redirectUris(),
                b.internal() != null ? b.internal() : old.internal(), old.authMethod(), old.secretHash(), old.managedBy(),
                old.createdAt(), System.currentTimeMillis());
        audited.run(t, audit -> {
            clients.save(c);
            return audit.append(event(t, EventTypes.CLIENT_UPDATED, c, auth, request));
        });
        return AdminViews.ok(view(c));
    }

    @Operation(operationId = "deleteClient", summary = "Delete a client")
    @ApiResponse(responseCode = "204", description = "Deleted")
    @ApiResponse(responseCode = "401", description = "No admin token, or an expired or revoked one")
    @ApiResponse(responseCode = "403", description = "No role for this in that tenant", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @ApiResponse(responseCode = "404", description = "Unknown tenant or object", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @ApiResponse(responseCode = "409", description = "The current state does not allow it; nothing changed", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @Delete(uri = "/{clientId}")
    HttpResponse<?> delete(@Parameter(description = "Tenant id", example = "demo") @PathVariable String tenant, @Parameter(description = "OAuth client id", example = "payments.settlement.dashboard") @PathVariable String clientId, HttpRequest<?> request,
                           Authentication auth) {
        admin.delete(ctx.tenant(tenant), clientId, AdminContext.actor(auth), RequestMetaFilter.of(request));
        return HttpResponse.noContent();
    }

    private OAuthClient find(String tenant, String clientId) {
        return clients.find(tenant, clientId).orElseThrow(() -> AgentException.notFound("no client " + clientId));
    }

    private static void checkRedirects(List<String> uris) {
        try {
            // admins may register web and native redirect URIs alike: each URI is checked by its own shape
            for (String u : uris == null ? List.<String>of() : uris) {
                RedirectRules.check(List.of(u), null, null);
            }
            if (uris == null || uris.isEmpty()) {
                throw AgentException.invalid("redirect_uris: at least one is required");
            }
        } catch (RegistrationException e) {
            throw AgentException.invalid(e.getMessage());
        }
    }

    private static AuditEvent event(String tenant, String type, OAuthClient c, Authentication auth, HttpRequest<?> request) {
        return ClientAdmin.event(tenant, type, c, AdminContext.actor(auth), RequestMetaFilter.of(request));
    }

    static Map<String, Object> view(OAuthClient c) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("client_id", c.clientId());
        m.put("name", c.name());
        m.put("redirect_uris", c.redirectUris());
        m.put("internal", c.internal());
        m.put("token_endpoint_auth_method", c.authMethod());
        m.put("managed_by", c.managedBy());
        m.put("created_at", AdminViews.time(c.createdAt()));
        m.put("updated_at", AdminViews.time(c.updatedAt()));
        return m;
    }

    private static String random() {
        byte[] b = new byte[32];
        RANDOM.nextBytes(b);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }
}
