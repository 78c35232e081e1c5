package dev.deputy.broker.admin;

import dev.deputy.broker.agent.AgentException;
import dev.deputy.broker.federation.User;
import dev.deputy.broker.federation.UserStore;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.MediaType;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.PathVariable;
import io.micronaut.http.annotation.QueryValue;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import io.micronaut.security.annotation.Secured;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.tags.Tag;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code /admin/t/{tenant}/users}: the humans linked on upstream login, read-only. Looked up by e-mail (case-insensitive)
 * or by upstream subject ({@code sub}, byte for byte, optionally with its {@code iss} and {@code connector}), so an
 * admin can find the internal user id a consent or an audit entry names.
 */
@Tag(name = "Users", description = "Humans linked on upstream login (read-only)")
@Controller("/admin/t/{tenant}/users")
@Secured(AdminTokenValidator.ROLE)
@ExecuteOn(TaskExecutors.BLOCKING)
class UsersController {
    private final UserStore users;
    private final AdminContext ctx;

    UsersController(UserStore users, AdminContext ctx) {
        this.users = users;
        this.ctx = ctx;
    }

    @Operation(operationId = "listUsers", summary = "List or look up users (?email=, ?sub=, ?iss=, ?connector=)")
    @ApiResponse(responseCode = "200", description = "The users", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/UserList")))
    @ApiResponse(responseCode = "401", description = "No admin token, or an expired or revoked one")
    @ApiResponse(responseCode = "403", description = "No role for this in that tenant", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @ApiResponse(responseCode = "404", description = "Unknown tenant or object", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @Get(produces = MediaType.APPLICATION_JSON)
    HttpResponse<?> list(@Parameter(description = "Tenant id", example = "demo") @PathVariable String tenant, @Nullable @QueryValue String email, @Nullable @QueryValue String sub,
                         @Nullable @QueryValue String iss, @Nullable @QueryValue String connector) {
        String t = ctx.tenant(tenant);
        // a query on the store's indexes (e-mail lower-cased, upstream sub), not a walk of the tenant's users
        UserStore.Lookup q = new UserStore.Lookup(email == null || email.isBlank() ? null : email, sub, iss, connector);
        List<Map<String, Object>> found = users.lookup(t, q, Integer.MAX_VALUE).stream().map(UsersController::view).toList();
        return AdminViews.ok(Map.of("users", found));
    }

    @Operation(operationId = "getUser", summary = "Show a user")
    @ApiResponse(responseCode = "200", description = "The user", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/User")))
    @ApiResponse(responseCode = "401", description = "No admin token, or an expired or revoked one")
    @ApiResponse(responseCode = "403", description = "No role for this in that tenant", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @ApiResponse(responseCode = "404", description = "Unknown tenant or object", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @Get(uri = "/{id}", produces = MediaType.APPLICATION_JSON)
    HttpResponse<?> show(@Parameter(description = "Tenant id", example = "demo") @PathVariable String tenant, @Parameter(description = "Internal user id (find it with GET …/users?email= or ?sub=)", example = "usr_01JH5Q8M3N2ZP9T4V6W7X8Y9Z0") @PathVariable String id) {
        String t = ctx.tenant(tenant);
        return AdminViews.ok(view(users.find(t, id).orElseThrow(() -> AgentException.notFound("no user " + id))));
    }

    static Map<String, Object> view(User u) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", u.id());
        m.put("email", u.email());
        m.put("name", u.name());
        m.put("connector", u.connectorId());
        m.put("upstream_iss", u.upstreamIss());
        m.put("upstream_sub", u.upstreamSub());
        m.put("roles", u.roles());
        m.put("groups", u.groups());
        m.put("status", u.status().name().toLowerCase(Locale.ROOT));
        m.put("created_at", AdminViews.time(u.createdAt()));
        m.put("last_login_at", AdminViews.time(u.lastLoginAt()));
        return m;
    }
}
