package dev.deputy.broker.admin;

import dev.deputy.broker.authorize.ConsentRevocation;
import dev.deputy.broker.authorize.Consent;
import dev.deputy.broker.authorize.ConsentStore;
import dev.deputy.broker.http.RequestMetaFilter;
import dev.deputy.broker.http.UnknownTenantException;
import dev.deputy.broker.tenant.Tenants;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Delete;
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

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code /admin/t/{tenant}/consents}: list (optionally {@code ?user=<user id>}; members {@code tenant_id, user_id,
 * client_id, resource_id, scopes, granted_at} with ISO-8601 times) and revoke
 * ({@code DELETE /admin/t/{tenant}/consents/{user}/{client}/{resource}}, audited {@code consent.revoked};
 * the user's refresh-token families at that client and resource die with it, so its next refresh fails; the next
 * authorization asks again).
 */
@Tag(name = "Consents", description = "Consents users gave to external clients")
@Controller("/admin/t/{tenant}/consents")
@Secured(AdminTokenValidator.ROLE)
@ExecuteOn(TaskExecutors.BLOCKING)
class ConsentAdminController {
    private final Tenants tenants;
    private final ConsentStore consents;
    private final ConsentRevocation revocation;

    ConsentAdminController(Tenants tenants, ConsentStore consents, ConsentRevocation revocation) {
        this.tenants = tenants;
        this.consents = consents;
        this.revocation = revocation;
    }

    @Operation(operationId = "listConsents", summary = "List consents (?user=<user id>)")
    @ApiResponse(responseCode = "200", description = "The consents", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/ConsentList")))
    @ApiResponse(responseCode = "401", description = "No admin token, or an expired or revoked one")
    @ApiResponse(responseCode = "403", description = "No role for this in that tenant", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @ApiResponse(responseCode = "404", description = "Unknown tenant or object", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @Get
    HttpResponse<?> list(@Parameter(description = "Tenant id", example = "demo") @PathVariable String tenant, @Nullable @QueryValue String user) {
        check(tenant);
        return AdminViews.ok(Map.of("consents", consents.list(tenant, user).stream().map(ConsentAdminController::json).toList()));
    }

    /** The admin API's JSON style: snake_case members, ISO-8601 UTC times, every member present. */
    static Map<String, Object> json(Consent c) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("tenant_id", c.tenantId());
        m.put("user_id", c.userId());
        m.put("client_id", c.clientId());
        m.put("resource_id", c.resourceId());
        m.put("scopes", c.scopes());
        m.put("granted_at", Instant.ofEpochMilli(c.grantedAt()).toString());
        return m;
    }

    @Operation(operationId = "revokeConsent", summary = "Revoke a consent (the next authorization asks again)")
    @ApiResponse(responseCode = "204", description = "Revoked")
    @ApiResponse(responseCode = "401", description = "No admin token, or an expired or revoked one")
    @ApiResponse(responseCode = "403", description = "No role for this in that tenant", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @ApiResponse(responseCode = "404", description = "Unknown tenant or object", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @Delete("/{user}/{client}/{resource}")
    HttpResponse<?> revoke(@Parameter(description = "Tenant id", example = "demo") @PathVariable String tenant, @Parameter(description = "Internal user id (find it with GET …/users?email= or ?sub=)", example = "usr_01JH5Q8M3N2ZP9T4V6W7X8Y9Z0") @PathVariable String user, @Parameter(description = "OAuth client id", example = "payments.settlement.dashboard") @PathVariable String client,
                           @Parameter(description = "Resource id", example = "payments.ledger") @PathVariable String resource, HttpRequest<?> request) {
        check(tenant);
        return revocation.revokeConsent(tenant, user, client, resource, ConsentRevocation.By.admin(null),
                RequestMetaFilter.of(request))
                ? HttpResponse.noContent()
                : AdminViews.respond(HttpStatus.NOT_FOUND.getCode(), Map.of("error", "not_found", "error_description",
                        AdminErrors.describable("no consent of " + user + " for " + client + " at " + resource)));
    }

    private void check(String tenant) {
        if (tenants.find(tenant).isEmpty()) {
            throw new UnknownTenantException(tenant);
        }
    }
}
