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

import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** {@code /admin/t/{tenant}/agents}: the agent registry and lifecycle over JSON. */
@Controller("/admin/t/{tenant}/agents")
@Secured(AdminTokenValidator.ROLE)
@ExecuteOn(TaskExecutors.BLOCKING)
class AgentsController {
    private final Agents agents;
    private final AdminContext ctx;

    private final dev.deputy.broker.config.PlanApprovalStore privileges;

    AgentsController(Agents agents, AdminContext ctx, dev.deputy.broker.config.PlanApprovalStore privileges) {
        this.agents = agents;
        this.ctx = ctx;
        this.privileges = privileges;
    }

    /** A privileged role (roles/*.yml privileged: true) is granted only by an approved plan, never here. */
    private void refusePrivileged(String tenant, List<String> wanted, List<String> held) {
        if (wanted == null || wanted.isEmpty()) {
            return;
        }
        java.util.Set<String> privileged = privileges.privilegedRoles(tenant);
        List<String> granted = wanted.stream().filter(r -> privileged.contains(r) && !held.contains(r)).toList();
        if (!granted.isEmpty()) {
            throw new AgentException(AgentException.Kind.APPROVAL_REQUIRED, "role" + (granted.size() == 1 ? " " : "s ")
                    + granted + " privileged: grant it in the agent's file with deputy plan / apply and a second "
                    + "admin's approval");
        }
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

    @Post(consumes = MediaType.APPLICATION_JSON, produces = MediaType.APPLICATION_JSON)
    HttpResponse<?> create(@PathVariable String tenant, @Nullable @Body String body, HttpRequest<?> request,
                           Authentication auth) {
        String t = ctx.tenant(tenant);
        CreateRequest r = AdminJson.read(body, CreateRequest.class, true);
        refusePrivileged(t, r.roles(), List.of());
        CredentialSpec cred = new CredentialSpec(r.jwks(), r.jwksUri(), r.certificate());
        var d = agents.create(t, new AgentSpec(r.id(), r.name(), r.owner(), r.environment(), r.roles(), r.metadata(),
                r.authMethod(), cred.empty() ? null : cred), "api", AdminContext.actor(auth), RequestMetaFilter.of(request));
        return AdminViews.respond(201, view(t, d));
    }

    @Get(produces = MediaType.APPLICATION_JSON)
    HttpResponse<?> list(@PathVariable String tenant, @Nullable @QueryValue String status,
                             @Nullable @QueryValue String dormant) {
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
        List<Map<String, Object>> items = agents.list(t, s, dormantOnly, dormancy, now).stream()
                .map(a -> AdminViews.agent(a, null, dormancy, now)).toList();
        return AdminViews.ok(Map.of("agents", items, "dormancy_period_seconds", dormancy.period().toSeconds(),
                "dormancy_auto_suspend", dormancy.autoSuspend()));
    }

    @Get(uri = "/{id}", produces = MediaType.APPLICATION_JSON)
    HttpResponse<?> show(@PathVariable String tenant, @PathVariable String id) {
        String t = ctx.tenant(tenant);
        return AdminViews.ok(view(t, agents.details(t, id)));
    }

    @Patch(uri = "/{id}", consumes = MediaType.APPLICATION_JSON, produces = MediaType.APPLICATION_JSON)
    HttpResponse<?> update(@PathVariable String tenant, @PathVariable String id, @Nullable @Body String body,
                               HttpRequest<?> request, Authentication auth) {
        String t = ctx.tenant(tenant);
        PatchRequest r = AdminJson.read(body, PatchRequest.class, true);
        if (r.roles() != null) {
            refusePrivileged(t, r.roles(), agents.details(t, id).agent().roles());
        }
        return AdminViews.ok(view(t, agents.update(t, id, new AgentPatch(r.name(), r.owner(), r.environment(), r.roles(), r.metadata()),
                AdminContext.actor(auth), RequestMetaFilter.of(request))));
    }

    @Post(uri = "/{id}/suspend", produces = MediaType.APPLICATION_JSON)
    HttpResponse<?> suspend(@PathVariable String tenant, @PathVariable String id, @Nullable @Body String body,
                                HttpRequest<?> request, Authentication auth) {
        String t = ctx.tenant(tenant);
        agents.suspend(t, id, reason(body), AdminContext.actor(auth), RequestMetaFilter.of(request));
        return AdminViews.ok(view(t, agents.details(t, id)));
    }

    @Post(uri = "/{id}/resume", produces = MediaType.APPLICATION_JSON)
    HttpResponse<?> resume(@PathVariable String tenant, @PathVariable String id, @Nullable @Body String body,
                               HttpRequest<?> request, Authentication auth) {
        String t = ctx.tenant(tenant);
        agents.resume(t, id, reason(body), AdminContext.actor(auth), RequestMetaFilter.of(request));
        return AdminViews.ok(view(t, agents.details(t, id)));
    }

    @Post(uri = "/{id}/revoke", produces = MediaType.APPLICATION_JSON)
    HttpResponse<?> revoke(@PathVariable String tenant, @PathVariable String id, @Nullable @Body String body,
                               HttpRequest<?> request, Authentication auth) {
        String t = ctx.tenant(tenant);
        agents.revoke(t, id, reason(body), AdminContext.actor(auth), RequestMetaFilter.of(request));
        return AdminViews.ok(view(t, agents.details(t, id)));
    }

    @Post(uri = "/{id}/rotate", consumes = MediaType.APPLICATION_JSON, produces = MediaType.APPLICATION_JSON)
    HttpResponse<?> rotate(@PathVariable String tenant, @PathVariable String id, @Nullable @Body String body,
                               HttpRequest<?> request, Authentication auth) {
        String t = ctx.tenant(tenant);
        CredentialRequest r = AdminJson.read(body, CredentialRequest.class, true);
        return AdminViews.ok(view(t, agents.rotate(t, id, r.spec(), r.overlap(), AdminContext.actor(auth), RequestMetaFilter.of(request))));
    }

    @Post(uri = "/{id}/credentials", consumes = MediaType.APPLICATION_JSON, produces = MediaType.APPLICATION_JSON)
    HttpResponse<?> addCredential(@PathVariable String tenant, @PathVariable String id, @Nullable @Body String body,
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
