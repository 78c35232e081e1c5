package dev.deputy.broker.admin;

import dev.deputy.broker.agent.Agent;
import dev.deputy.broker.agent.AgentException;
import dev.deputy.broker.agent.AgentPatch;
import dev.deputy.broker.agent.AgentSpec;
import dev.deputy.broker.agent.Agents;
import dev.deputy.broker.agent.CredentialSpec;
import dev.deputy.broker.agent.Dormancy;
import dev.deputy.broker.http.RequestMetaFilter;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.MediaType;
import io.micronaut.http.annotation.Body;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.Patch;
import io.micronaut.http.annotation.PathVariable;
import io.micronaut.http.annotation.Post;
import io.micronaut.http.annotation.QueryValue;
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

import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** {@code /admin/t/{tenant}/agents}: the agent registry and lifecycle over JSON. */
@Tag(name = "Agents", description = "Agents: registry, lifecycle (suspend, resume, revoke), credentials")
@Controller("/admin/t/{tenant}/agents")
@Secured(AdminTokenValidator.ROLE)
@ExecuteOn(TaskExecutors.BLOCKING)
class AgentsController {
    private final Agents agents;
    private final AdminContext ctx;
    private final RoleGrants grants;

    AgentsController(Agents agents, AdminContext ctx, RoleGrants grants) {
        this.agents = agents;
        this.ctx = ctx;
        this.grants = grants;
    }

    /** Granting a role through the API (creation or patch): {@link RoleGrants}. */
    private void checkGrants(String tenant, List<String> wanted, List<String> held, Authentication auth) {
        grants.check(tenant, wanted, held, AdminPrincipal.of(auth).orElse(null));
    }

    record CreateRequest(String id, String name, String owner, String environment, List<String> roles,
                         Map<String, Object> metadata, String authMethod, Map<String, Object> jwks, String jwksUri,
                         String certificate) {
    }

    record PatchRequest(String name, String owner, String environment, List<String> roles, Map<String, Object> metadata) {
    }

    record CredentialRequest(Map<String, Object> jwks, String jwksUri, String certificate, Duration overlap) {
        CredentialSpec spec() {
            return new CredentialSpec(jwks, jwksUri, certificate);
        }
    }

    record ReasonRequest(String reason) {
    }

    @io.swagger.v3.oas.annotations.parameters.RequestBody(required = true, content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/AgentCreate")))
    @Operation(operationId = "createAgent", summary = "Create an agent")
    @ApiResponse(responseCode = "201", description = "The new agent", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/AgentDetails")))
    @ApiResponse(responseCode = "400", description = "Malformed or refused input; nothing changed", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @ApiResponse(responseCode = "401", description = "No admin token, or an expired or revoked one")
    @ApiResponse(responseCode = "403", description = "No role for this in that tenant", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @ApiResponse(responseCode = "404", description = "Unknown tenant or object", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @ApiResponse(responseCode = "409", description = "The current state does not allow it; nothing changed", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @Post(consumes = MediaType.APPLICATION_JSON, produces = MediaType.APPLICATION_JSON)
    HttpResponse<?> create(@Parameter(description = "Tenant id", example = "demo") @PathVariable String tenant, @Nullable @Body String body, HttpRequest<?> request,
                           Authentication auth) {
        String t = ctx.tenant(tenant);
        CreateRequest r = AdminJson.read(body, CreateRequest.class, true);
        checkGrants(t, r.roles(), List.of(), auth);
        CredentialSpec cred = new CredentialSpec(r.jwks(), r.jwksUri(), r.certificate());
        var d = agents.create(t, new AgentSpec(r.id(), r.name(), r.owner(), r.environment(), r.roles(), r.metadata(),
                r.authMethod(), cred.empty() ? null : cred), "api", AdminContext.actor(auth), RequestMetaFilter.of(request));
        return AdminViews.respond(201, view(t, d));
    }

    @Operation(operationId = "listAgents", summary = "List agents (?status=, ?dormant=true)")
    @ApiResponse(responseCode = "200", description = "The agents", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/AgentList")))
    @ApiResponse(responseCode = "400", description = "Malformed or refused input; nothing changed", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @ApiResponse(responseCode = "401", description = "No admin token, or an expired or revoked one")
    @ApiResponse(responseCode = "403", description = "No role for this in that tenant", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @ApiResponse(responseCode = "404", description = "Unknown tenant or object", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @Get(produces = MediaType.APPLICATION_JSON)
    HttpResponse<?> list(@Parameter(description = "Tenant id", example = "demo") @PathVariable String tenant, @Nullable @QueryValue String status,
                             @Nullable @QueryValue String dormant, Authentication auth) {
        String t = ctx.tenant(tenant);
        Agent.Status s = null;
        if (status != null && !status.isBlank()) {
            try {
                s = Agent.Status.valueOf(status.trim().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw AgentException.invalid("status must be active, suspended or revoked");
            }
        }
        boolean dormantOnly = bool(dormant, "dormant");
        Dormancy dormancy = ctx.dormancy(t);
        long now = System.currentTimeMillis();
        // an agent owner (and no wider role here) sees their own agents only
        var principal = AdminPrincipal.of(auth).filter(p -> p.ownerOnly(t));
        List<Map<String, Object>> items = agents.list(t, s, dormantOnly, dormancy, now).stream()
                .filter(a -> principal.isEmpty() || principal.get().owns(a.owner()))
                .map(a -> AdminViews.agent(a, null, dormancy, now)).toList();
        return AdminViews.ok(Map.of("agents", items, "dormancy_period_seconds", dormancy.period().toSeconds(),
                "dormancy_auto_suspend", dormancy.autoSuspend()));
    }

    @Operation(operationId = "getAgent", summary = "Show an agent with its credentials")
    @ApiResponse(responseCode = "200", description = "The agent", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/AgentDetails")))
    @ApiResponse(responseCode = "401", description = "No admin token, or an expired or revoked one")
    @ApiResponse(responseCode = "403", description = "No role for this in that tenant", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @ApiResponse(responseCode = "404", description = "Unknown tenant or object", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @Get(uri = "/{id}", produces = MediaType.APPLICATION_JSON)
    HttpResponse<?> show(@Parameter(description = "Tenant id", example = "demo") @PathVariable String tenant, @Parameter(description = "Agent id", example = "payments.settlement.reconciler") @PathVariable String id) {
        String t = ctx.tenant(tenant);
        return AdminViews.ok(view(t, agents.details(t, id)));
    }

    @io.swagger.v3.oas.annotations.parameters.RequestBody(required = true, content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/AgentPatch")))
    @Operation(operationId = "updateAgent", summary = "Change an agent (partial)")
    @ApiResponse(responseCode = "200", description = "The agent", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/AgentDetails")))
    @ApiResponse(responseCode = "400", description = "Malformed or refused input; nothing changed", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @ApiResponse(responseCode = "401", description = "No admin token, or an expired or revoked one")
    @ApiResponse(responseCode = "403", description = "No role for this in that tenant", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @ApiResponse(responseCode = "404", description = "Unknown tenant or object", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @ApiResponse(responseCode = "409", description = "The current state does not allow it; nothing changed", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @Patch(uri = "/{id}", consumes = MediaType.APPLICATION_JSON, produces = MediaType.APPLICATION_JSON)
    HttpResponse<?> update(@Parameter(description = "Tenant id", example = "demo") @PathVariable String tenant, @Parameter(description = "Agent id", example = "payments.settlement.reconciler") @PathVariable String id, @Nullable @Body String body,
                               HttpRequest<?> request, Authentication auth) {
        String t = ctx.tenant(tenant);
        PatchRequest r = AdminJson.read(body, PatchRequest.class, true);
        var principal = AdminPrincipal.of(auth).filter(p -> p.ownerOnly(t));
        if (principal.isPresent() && r.owner() != null && !principal.get().owns(r.owner())) {
            throw AdminRefusal.forbidden("an agent owner cannot give an agent to someone else");
        }
        if (r.roles() != null) {
            checkGrants(t, r.roles(), agents.details(t, id).agent().roles(), auth);
        }
        return AdminViews.ok(view(t, agents.update(t, id, new AgentPatch(r.name(), r.owner(), r.environment(), r.roles(), r.metadata()),
                AdminContext.actor(auth), RequestMetaFilter.of(request))));
    }

    @io.swagger.v3.oas.annotations.parameters.RequestBody(required = false, content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/ReasonRequest")))
    @Operation(operationId = "suspendAgent", summary = "Suspend an agent (its tokens stop working at once)")
    @ApiResponse(responseCode = "200", description = "The agent", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/AgentDetails")))
    @ApiResponse(responseCode = "400", description = "Malformed or refused input; nothing changed", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @ApiResponse(responseCode = "401", description = "No admin token, or an expired or revoked one")
    @ApiResponse(responseCode = "403", description = "No role for this in that tenant", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @ApiResponse(responseCode = "404", description = "Unknown tenant or object", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @ApiResponse(responseCode = "409", description = "The current state does not allow it; nothing changed", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @Post(uri = "/{id}/suspend", produces = MediaType.APPLICATION_JSON)
    HttpResponse<?> suspend(@Parameter(description = "Tenant id", example = "demo") @PathVariable String tenant, @Parameter(description = "Agent id", example = "payments.settlement.reconciler") @PathVariable String id, @Nullable @Body String body,
                                HttpRequest<?> request, Authentication auth) {
        String t = ctx.tenant(tenant);
        agents.suspend(t, id, reason(body), AdminContext.actor(auth), RequestMetaFilter.of(request));
        return AdminViews.ok(view(t, agents.details(t, id)));
    }

    @io.swagger.v3.oas.annotations.parameters.RequestBody(required = false, content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/ReasonRequest")))
    @Operation(operationId = "resumeAgent", summary = "Resume a suspended agent")
    @ApiResponse(responseCode = "200", description = "The agent", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/AgentDetails")))
    @ApiResponse(responseCode = "400", description = "Malformed or refused input; nothing changed", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @ApiResponse(responseCode = "401", description = "No admin token, or an expired or revoked one")
    @ApiResponse(responseCode = "403", description = "No role for this in that tenant", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @ApiResponse(responseCode = "404", description = "Unknown tenant or object", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @ApiResponse(responseCode = "409", description = "The current state does not allow it; nothing changed", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @Post(uri = "/{id}/resume", produces = MediaType.APPLICATION_JSON)
    HttpResponse<?> resume(@Parameter(description = "Tenant id", example = "demo") @PathVariable String tenant, @Parameter(description = "Agent id", example = "payments.settlement.reconciler") @PathVariable String id, @Nullable @Body String body,
                               HttpRequest<?> request, Authentication auth) {
        String t = ctx.tenant(tenant);
        agents.resume(t, id, reason(body), AdminContext.actor(auth), RequestMetaFilter.of(request));
        return AdminViews.ok(view(t, agents.details(t, id)));
    }

    @io.swagger.v3.oas.annotations.parameters.RequestBody(required = false, content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/ReasonRequest")))
    @Operation(operationId = "revokeAgent", summary = "Revoke an agent (final)")
    @ApiResponse(responseCode = "200", description = "The agent", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/AgentDetails")))
    @ApiResponse(responseCode = "400", description = "Malformed or refused input; nothing changed", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @ApiResponse(responseCode = "401", description = "No admin token, or an expired or revoked one")
    @ApiResponse(responseCode = "403", description = "No role for this in that tenant", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @ApiResponse(responseCode = "404", description = "Unknown tenant or object", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @ApiResponse(responseCode = "409", description = "The current state does not allow it; nothing changed", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @Post(uri = "/{id}/revoke", produces = MediaType.APPLICATION_JSON)
    HttpResponse<?> revoke(@Parameter(description = "Tenant id", example = "demo") @PathVariable String tenant, @Parameter(description = "Agent id", example = "payments.settlement.reconciler") @PathVariable String id, @Nullable @Body String body,
                               HttpRequest<?> request, Authentication auth) {
        String t = ctx.tenant(tenant);
        agents.revoke(t, id, reason(body), AdminContext.actor(auth), RequestMetaFilter.of(request));
        return AdminViews.ok(view(t, agents.details(t, id)));
    }

    @io.swagger.v3.oas.annotations.parameters.RequestBody(required = true, content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/CredentialRequest")))
    @Operation(operationId = "rotateAgentCredential", summary = "Replace the agent's credentials, with an overlap")
    @ApiResponse(responseCode = "200", description = "The agent", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/AgentDetails")))
    @ApiResponse(responseCode = "400", description = "Malformed or refused input; nothing changed", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @ApiResponse(responseCode = "401", description = "No admin token, or an expired or revoked one")
    @ApiResponse(responseCode = "403", description = "No role for this in that tenant", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @ApiResponse(responseCode = "404", description = "Unknown tenant or object", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @ApiResponse(responseCode = "409", description = "The current state does not allow it; nothing changed", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @Post(uri = "/{id}/rotate", consumes = MediaType.APPLICATION_JSON, produces = MediaType.APPLICATION_JSON)
    HttpResponse<?> rotate(@Parameter(description = "Tenant id", example = "demo") @PathVariable String tenant, @Parameter(description = "Agent id", example = "payments.settlement.reconciler") @PathVariable String id, @Nullable @Body String body,
                               HttpRequest<?> request, Authentication auth) {
        String t = ctx.tenant(tenant);
        CredentialRequest r = AdminJson.read(body, CredentialRequest.class, true);
        return AdminViews.ok(view(t, agents.rotate(t, id, r.spec(), r.overlap(), AdminContext.actor(auth), RequestMetaFilter.of(request))));
    }

    @io.swagger.v3.oas.annotations.parameters.RequestBody(required = true, content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/CredentialRequest")))
    @Operation(operationId = "addAgentCredential", summary = "Add a credential (JWKS, jwks_uri or certificate)")
    @ApiResponse(responseCode = "201", description = "The new credential", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Credential")))
    @ApiResponse(responseCode = "400", description = "Malformed or refused input; nothing changed", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @ApiResponse(responseCode = "401", description = "No admin token, or an expired or revoked one")
    @ApiResponse(responseCode = "403", description = "No role for this in that tenant", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @ApiResponse(responseCode = "404", description = "Unknown tenant or object", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @ApiResponse(responseCode = "409", description = "The current state does not allow it; nothing changed", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @Post(uri = "/{id}/credentials", consumes = MediaType.APPLICATION_JSON, produces = MediaType.APPLICATION_JSON)
    HttpResponse<?> addCredential(@Parameter(description = "Tenant id", example = "demo") @PathVariable String tenant, @Parameter(description = "Agent id", example = "payments.settlement.reconciler") @PathVariable String id, @Nullable @Body String body,
                                  HttpRequest<?> request, Authentication auth) {
        String t = ctx.tenant(tenant);
        CredentialRequest r = AdminJson.read(body, CredentialRequest.class, true);
        if (r.overlap() != null) {
            throw AgentException.invalid("overlap applies to rotate, not to adding a credential");
        }
        var c = agents.addCredential(t, id, r.spec(), AdminContext.actor(auth), RequestMetaFilter.of(request));
        return AdminViews.respond(201, AdminViews.credential(c, System.currentTimeMillis()));
    }

    private Map<String, Object> view(String tenant, Agents.Details d) {
        return AdminViews.agent(d.agent(), d.credentials(), ctx.dormancy(tenant), System.currentTimeMillis());
    }

    private static String reason(String body) {
        ReasonRequest r = AdminJson.read(body, ReasonRequest.class, false);
        return r == null ? null : r.reason();
    }

    static boolean bool(String v, String name) {
        if (v == null || v.isBlank()) {
            return false;
        }
        return switch (v.trim().toLowerCase(Locale.ROOT)) {
            case "true", "1", "yes" -> true;
            case "false", "0", "no" -> false;
            default -> throw AgentException.invalid(name + " must be true or false");
        };
    }
}
